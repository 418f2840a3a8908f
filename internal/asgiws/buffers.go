package asgiws

import (
	"bufio"
	"net"
	"net/http"
)

// bufSize is the size of a connection's read and write buffers: a frame of
// a small message (the common one) and its header go in one syscall; a
// larger payload bypasses the buffer. net/http's 4 KiB each would be most of
// what an idle socket costs.
const bufSize = 1024

// smallBuffers hands coder/websocket's Accept the hijacked connection with
// buffers of bufSize in place of net/http's.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := brw.Reader
	if br.Buffered() == 0 {
		// Else the client sent frames before it saw the 101: keep them.
		br = bufio.NewReaderSize(conn, bufSize)
	}
	if brw.Writer.Buffered() != 0 {
		if err := brw.Writer.Flush(); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, bufSize)), nil
}
