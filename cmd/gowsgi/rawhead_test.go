package main

import (
	"io"
	"net"
	"strings"
	"testing"
)

// chunkConn is a net.Conn whose reads return its data chunk bytes at a time.
type chunkConn struct {
	net.Conn
	data  string
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if c.data == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestRawConnSeesTransferEncoding: a line starting with Transfer-Encoding,
// in any case, is seen however the reads split it; a field merely
// containing the name is not.
func TestRawConnSeesTransferEncoding(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"POST / HTTP/1.0\r\nHost: x\r\ntRANSFER-eNCODING: identity\r\n\r\n", true},
		{"POST / HTTP/1.0\nTransfer-Encoding:chunked\n\n", true},
		{"GET / HTTP/1.0\r\nHost: x\r\nX-Transfer-Encoding: chunked\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: x\r\nTransfer-Encodin: chunked\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: x\r\nTransfer\r\n-Encoding: x\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nTransfer", false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 2, 7, 16, 17, 18, 19, 4096} {
			c := &rawConn{Conn: &chunkConn{data: tt.head, chunk: chunk}}
			var b strings.Builder
			if _, err := io.Copy(&b, struct{ io.Reader }{c}); err != nil {
				t.Fatal(err)
			}
			if got := c.sawTE.Load(); got != tt.want || b.String() != tt.head {
				t.Errorf("%q read %d bytes at a time: sawTE %v, want %v (read %q)", tt.head, chunk, got, tt.want, b.String())
			}
		}
	}
}
