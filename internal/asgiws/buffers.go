package asgiws

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// bufSize is the size of a connection's read and write buffers when it
// borrows none (see Buffers): a frame of a small message (the common one)
// and its header go in one syscall; a larger payload bypasses the buffer.
// net/http's 4 KiB each would be most of what an idle socket costs.
const bufSize = 1024

// lentSize is the size of the buffers that Buffers lends: net/http's, since
// an idle connection holds none.
const lentSize = 4 << 10

// Buffers lends the connections that share it (Options.Buffers) their read
// and write buffers, only while they hold bytes: what coder/websocket has
// not yet taken, a message not yet written out. A connection waiting for
// its client holds none, where without Buffers each holds two bufSize
// buffers of its own for as long as it is open.
// The zero value is ready for use; a server shares one.
type Buffers struct{ l lender }

// lender is Buffers as a rawio.Lender.
type lender struct{ pool sync.Pool }

func (l *lender) Lend() []byte {
	if p, ok := l.pool.Get().(*[lentSize]byte); ok {
		return p[:]
	}
	return make([]byte, lentSize)
}

func (l *lender) Return(buf []byte) { l.pool.Put((*[lentSize]byte)(buf)) }

// smallBuffers hands coder/websocket's Accept the hijacked connection with
// buffers of bufSize in place of net/http's, or, with Buffers and a socket
// that has a syscall.RawConn, a lendingConn under a bufio.Reader and Writer
// of 16 bytes.
type smallBuffers struct {
	http.ResponseWriter
	lend *Buffers
	lc   *lendingConn // the connection Hijack returned, if it is one
}

func (w *smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() != 0 {
		if err := brw.Writer.Flush(); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	if lc := lending(conn, w.lend, brw.Reader); lc != nil {
		// bufio's smallest buffers: a frame header fits.
		w.lc = lc
		return lc, bufio.NewReadWriter(bufio.NewReaderSize(lc, 16), bufio.NewWriterSize(&lc.fw, 16)), nil
	}
	br := brw.Reader
	if br.Buffered() == 0 {
		// Else the client sent frames before it saw the 101: keep them.
		br = bufio.NewReaderSize(conn, bufSize)
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, bufSize)), nil
}
