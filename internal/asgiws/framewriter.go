package asgiws

import (
	"encoding/binary"
	"io"
)

// A frameWriter is what coder/websocket's bufio.Writer, of 16 bytes, writes
// to once the 101 is out: the connection's frames. It gathers them in a
// buffer that Buffers lends and writes them out as a bufio.Writer of
// lentSize would, that coder/websocket flushes at the end of each message:
// once a frame that ends its message is whole (every control frame does),
// or the buffer is full; then the buffer goes back, so that an idle
// connection holds none. To know where each frame ends it reads the frame
// headers that pass (RFC 6455 section 5.2); coder/websocket writes nothing
// else. One goroutine writes at a time (coder/websocket's writeFrameMu).
type frameWriter struct {
	w    io.Writer // the connection
	lend *lender
	buf  []byte // lent while it holds bytes not yet written: buf[:n]
	n    int
	err  error // the connection's write error, once there is one
	scan frameScan
}

// Write takes p, writing out what it completes.
func (f *frameWriter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	total := len(p)
	for len(p) > 0 {
		k, fin := f.scan.advance(p)
		f.gather(p[:k])
		if fin && f.err == nil {
			f.flush()
		}
		if f.err != nil {
			f.giveBack()
			return total - len(p), f.err
		}
		p = p[k:]
	}
	return total, nil
}

// A frameScan follows a stream of WebSocket frames, reading their headers
// (RFC 6455 section 5.2) to know where each ends.
type frameScan struct {
	hdr  [14]byte // the current frame's header, as far as it came
	hn   int      // how much of it came; 0 between frames
	left int64    // once it is whole: the frame's payload bytes still to come
}

// advance reads the frame headers in p and returns how many bytes of p
// belong to the current frame, and whether they end it as the last frame
// of its message (FIN).
func (f *frameScan) advance(p []byte) (n int, fin bool) {
	for n < len(p) {
		if f.hn < f.headerLen() {
			f.hdr[f.hn] = p[n]
			f.hn++
			n++
			if f.hn < f.headerLen() {
				continue
			}
			f.left = f.payloadLen()
		} else {
			k := int(min(f.left, int64(len(p)-n)))
			n += k
			f.left -= int64(k)
		}
		if f.left == 0 {
			fin = f.hdr[0]&0x80 != 0
			f.hn = 0
			return n, fin
		}
	}
	return n, false
}

// between reports whether the stream is between two frames.
func (f *frameScan) between() bool { return f.hn == 0 }

// rest is how many bytes of the current part of the frame are still to
// come: of its header (as far as its first bytes tell), or of its payload.
func (f *frameScan) rest() int64 {
	if hl := f.headerLen(); f.hn < hl {
		return int64(hl - f.hn)
	}
	return f.left
}

// headerLen is the current frame's header length, as far as its first two
// bytes tell (2 until they came).
func (f *frameScan) headerLen() int {
	if f.hn < 2 {
		return 2
	}
	n := 2
	switch f.hdr[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if f.hdr[1]&0x80 != 0 {
		n += 4 // the masking key of a client's frame
	}
	return n
}

// payloadLen is the payload length of the current frame, whose header is
// whole.
func (f *frameScan) payloadLen() int64 {
	switch n := f.hdr[1] & 0x7f; n {
	case 126:
		return int64(binary.BigEndian.Uint16(f.hdr[2:]))
	case 127:
		return int64(binary.BigEndian.Uint64(f.hdr[2:]) &^ (1 << 63))
	default:
		return int64(n)
	}
}

// gather adds p to the buffer as bufio.Writer's Write would: what fills
// it is written out, and a p larger than the buffer, once the buffer is
// empty, is written as it is.
func (f *frameWriter) gather(p []byte) {
	for len(p) > 0 && f.err == nil {
		if f.n == 0 && len(p) >= lentSize {
			_, f.err = f.w.Write(p)
			return
		}
		if f.buf == nil {
			f.buf = f.lend.Lend()
		}
		k := copy(f.buf[f.n:], p)
		f.n += k
		p = p[k:]
		if f.n == len(f.buf) {
			f.flush()
		}
	}
}

// flush writes out what the buffer holds and gives it back.
func (f *frameWriter) flush() {
	if f.n > 0 {
		_, f.err = f.w.Write(f.buf[:f.n])
	}
	f.giveBack()
}

func (f *frameWriter) giveBack() {
	if f.buf != nil {
		f.lend.Return(f.buf)
	}
	f.buf, f.n = nil, 0
}
