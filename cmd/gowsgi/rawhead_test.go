package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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

// TestRiskyFramingHTTP10: what closeAfterRiskyFraming does with HTTP/1.0
// requests, given what the connection's rawConn saw.
func TestRiskyFramingHTTP10(t *testing.T) {
	tests := []struct {
		name       string
		proto      string
		conn       func() *rawConn // nil: no rawConn (TLS)
		body       string
		code       int
		close      bool
		stopsScans bool
	}{
		{"1.0 with Transfer-Encoding", "HTTP/1.0", func() *rawConn { c := new(rawConn); c.sawTE.Store(true); return c }, "", 400, true, false},
		{"1.0 keep-alive, no body", "HTTP/1.0", func() *rawConn { return new(rawConn) }, "", 200, false, false},
		{"1.0 with a body", "HTTP/1.0", func() *rawConn { return new(rawConn) }, "hello", 200, true, false},
		{"1.0 after a 1.1 request", "HTTP/1.0", func() *rawConn { c := new(rawConn); c.stopScan(); return c }, "", 200, true, true},
		{"1.0 under TLS", "HTTP/1.0", nil, "", 200, true, false},
		{"1.1", "HTTP/1.1", func() *rawConn { return new(rawConn) }, "", 200, false, true},
	}
	h := closeAfterRiskyFraming(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		r.Proto, r.ProtoMinor = tt.proto, int(tt.proto[len(tt.proto)-1]-'0')
		var rc *rawConn
		if tt.conn != nil {
			rc = tt.conn()
			r = r.WithContext(context.WithValue(r.Context(), rawConnKey{}, rc))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if closed := w.Header().Get("Connection") == "close"; w.Code != tt.code || closed != tt.close {
			t.Errorf("%s: %d, close %v; want %d, close %v", tt.name, w.Code, closed, tt.code, tt.close)
		}
		if rc != nil && rc.stopped.Load() != tt.stopsScans {
			t.Errorf("%s: scanning stopped %v; want %v", tt.name, rc.stopped.Load(), tt.stopsScans)
		}
	}
}

// TestRawListenerRawIO: a TCP or Unix connection the listener accepts
// reads and writes through package rawio, and bytes pass both ways.
func TestRawListenerRawIO(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = t.TempDir() + "/s"
			}
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			client, err := net.Dial(network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			c, err := rawListener{l}.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.(*rawConn).raw == nil {
				t.Fatalf("accepted %T without raw reads and writes", c.(*rawConn).Conn)
			}
			client.Write([]byte("GET / HTTP/1.1\r\n"))
			p := make([]byte, 64)
			if n, err := c.Read(p); err != nil || string(p[:n]) != "GET / HTTP/1.1\r\n" {
				t.Fatalf("server read %q, %v", p[:n], err)
			}
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
				t.Fatal(err)
			}
			if n, err := client.Read(p); err != nil || string(p[:n]) != "HTTP/1.1 200 OK\r\n" {
				t.Fatalf("client read %q, %v", p[:n], err)
			}
		})
	}
}
