package asgiws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// recorder is the connection under a frameWriter: what it was given, write
// by write.
type recorder struct {
	writes [][]byte
	err    error // returned by the writes from the next on
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recorder) all() []byte { return bytes.Join(r.writes, nil) }

// wsFrame is a server frame: unmasked, with the length in 7, 16 or 64 bits.
func wsFrame(fin bool, op byte, n int) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch {
	case n < 126:
		b = []byte{b0, byte(n)}
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16([]byte{b0, 126}, uint16(n))
	default:
		b = binary.BigEndian.AppendUint64([]byte{b0, 127}, uint64(n))
	}
	return append(b, bytes.Repeat([]byte{op + 'a'}, n)...)
}

// TestFrameWriter: whatever the sizes of the writes coder/websocket's
// bufio.Writer makes, a frameWriter passes every byte on in order, and all
// of them, with no buffer left out, as soon as a frame that ends its message
// is whole; a message that fits in its buffer goes out in one write.
func TestFrameWriter(t *testing.T) {
	frames := [][]byte{
		wsFrame(true, 1, 5),         // a small text message
		wsFrame(false, 2, 200),      // a binary message in two frames,
		wsFrame(true, 9, 0),         // a ping between them,
		wsFrame(true, 0, 100),       // and its last frame
		wsFrame(true, 1, 300),       // a 16-bit length
		wsFrame(true, 2, 70000),     // a 64-bit length, past the buffer
		wsFrame(false, 1, lentSize), // a message that fills the buffer
		wsFrame(true, 0, 10),
		wsFrame(true, 8, 2), // a close
	}
	stream := bytes.Join(frames, nil)
	var ends []int // where the messages end in stream
	at := 0
	for _, f := range frames {
		at += len(f)
		if f[0]&0x80 != 0 {
			ends = append(ends, at)
		}
	}
	for _, size := range []int{1, 2, 3, 7, 16, 100, 4096, len(stream)} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			rec := &recorder{}
			fw := &frameWriter{w: rec, lend: &lender{}}
			in := 0
			for in < len(stream) {
				k := min(size, len(stream)-in)
				// The next write stops at a message's end, as
				// coder/websocket's Flush does.
				for _, e := range ends {
					if e > in && e < in+k {
						k = e - in
						break
					}
				}
				if n, err := fw.Write(stream[in : in+k]); n != k || err != nil {
					t.Fatalf("Write of %d bytes = %d, %v", k, n, err)
				}
				in += k
				for _, e := range ends {
					if e != in {
						continue
					}
					if out := rec.all(); !bytes.Equal(out, stream[:in]) || fw.buf != nil {
						t.Fatalf("a message ends at %d bytes in: %d bytes out (the same: %v), buffer kept %v",
							in, len(out), bytes.Equal(out, stream[:len(out)]), fw.buf != nil)
					}
				}
			}
		})
	}
	t.Run("one write per small message", func(t *testing.T) {
		rec := &recorder{}
		fw := &frameWriter{w: rec, lend: &lender{}}
		f := wsFrame(true, 1, 64)
		fw.Write(f[:16]) // as bufio.Writer's 16 bytes pass: the header and the start
		fw.Write(f[16:])
		if len(rec.writes) != 1 || !bytes.Equal(rec.writes[0], f) {
			t.Fatalf("a 64-byte message went out in %d writes, want 1", len(rec.writes))
		}
	})
	t.Run("write error", func(t *testing.T) {
		broken := errors.New("broken pipe")
		rec := &recorder{err: broken}
		fw := &frameWriter{w: rec, lend: &lender{}}
		if _, err := fw.Write(wsFrame(true, 1, 5)); err != broken {
			t.Fatalf("Write over a broken connection = %v, want %v", err, broken)
		}
		if fw.buf != nil {
			t.Error("the buffer is kept after a write error")
		}
		if _, err := fw.Write(wsFrame(true, 1, 5)); err != broken {
			t.Fatalf("the next Write = %v, want %v", err, broken)
		}
	})
}
