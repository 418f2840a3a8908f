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

	hdr  [14]byte // the current frame's header, as far as it came
	hn   int      // how much of it came
	left int64    // once it is whole: the frame's payload bytes still to come
}

// Write takes p, writing out what it completes.
func (f *frameWriter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	total := len(p)
	for len(p) > 0 {
		k, end := f.advance(p)
		f.gather(p[:k])
		if end && f.err == nil {
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

// advance reads the frame headers in p and returns how many bytes of p
// belong to the current frame, and whether they end it as the last of its
// message (FIN).
func (f *frameWriter) advance(p []byte) (n int, end bool) {
	for n < len(p) {
		if hl := f.headerLen(); f.hn < hl {
			f.hdr[f.hn] = p[n]
			f.hn++
			n++
			if f.hn == f.headerLen() {
				f.left = f.payloadLen()
			} else {
				continue
			}
		} else {
			k := int(min(f.left, int64(len(p)-n)))
			n += k
			f.left -= int64(k)
		}
		if f.hn == f.headerLen() && f.left == 0 {
			end = f.hdr[0]&0x80 != 0
			f.hn = 0
			return n, end
		}
	}
	return n, false
}

// headerLen is the current frame's header length, as far as its first two
// bytes tell (2 until they came).
func (f *frameWriter) headerLen() int {
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
		n += 4 // a masking key: a client's frames, not ours, but the length is the length
	}
	return n
}

// payloadLen is the payload length of the current frame, whose header is
// whole.
func (f *frameWriter) payloadLen() int64 {
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
