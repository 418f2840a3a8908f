package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/gowsgi/gowsgi/internal/rawio"
)

// teField is the field name rawConn looks for at the start of each line.
const teField = "transfer-encoding"

// rawListener wraps the connections it accepts in rawConns, so that the
// handler can tell what net/http hid from it: whether a Transfer-Encoding
// field came on the connection (net/http deletes it from HTTP/1.0
// requests, RFC 9112 section 6.1 wants them refused).
type rawListener struct{ net.Listener }

func (l rawListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &rawConn{Conn: c}
	if sc, ok := c.(syscall.Conn); ok {
		// Not fatal: without it reads and writes go through c.
		rc.raw, _ = rawio.New(sc, c.LocalAddr().Network())
	}
	return rc, nil
}

// A rawConn notes whether a line starting with "Transfer-Encoding" (any
// case) was read from the connection. It scans what net/http reads, in
// place, with one IndexByte per line: it never copies a request. It stops
// once it has seen one, and once an HTTP/1.1 request came (stopScan), so
// that on the usual connection it scans the first head and no body; an
// HTTP/1.0 request after that closes the connection instead of being
// refused.
//
// It cannot tell a field from a body line that happens to start so; that
// errs on the safe side, refusing an HTTP/1.0 request on a connection
// that carried such a body before.
type rawConn struct {
	net.Conn
	raw     *rawio.FD   // c's reads and writes without waking sysmon (package rawio)
	sawTE   atomic.Bool // read by handlers while net/http reads on
	stopped atomic.Bool // by stopScan
	tail    []byte      // the end of the last read, from its last '\n', if short
}

func (c *rawConn) Read(p []byte) (n int, err error) {
	if c.raw != nil {
		n, err = c.raw.Read(p)
	} else {
		n, err = c.Conn.Read(p)
	}
	if n > 0 && !c.sawTE.Load() && !c.stopped.Load() {
		c.scan(p[:n])
	}
	return n, err
}

func (c *rawConn) Write(p []byte) (int, error) {
	if c.raw != nil {
		return c.raw.Write(p)
	}
	return c.Conn.Write(p)
}

// SyscallConn is the socket's, for the raw reads of a connection's
// hijacker (package asgiws lends a WebSocket its read buffers only while
// bytes are there); past a hijack nothing is scanned.
func (c *rawConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("gowsgi: a %T has no syscall.RawConn", c.Conn)
	}
	return sc.SyscallConn()
}

// stopScan stops the scanning of what comes next.
func (c *rawConn) stopScan() { c.stopped.Store(true) }

// scanned reports whether everything read so far was scanned.
func (c *rawConn) scanned() bool { return !c.stopped.Load() }

// scan looks for a line starting with teField in b, which follows tail.
func (c *rawConn) scan(b []byte) {
	if len(c.tail) > 0 {
		// A line split between two reads.
		k := min(len(b), len(teField)+1-len(c.tail))
		c.tail = append(c.tail, b[:k]...)
		if c.lineIsTE(c.tail[1:]) {
			return
		}
		if rest := c.tail[1:]; len(rest) < len(teField) && bytes.EqualFold(rest, []byte(teField[:len(rest)])) {
			return // still too short to tell: b is all in tail
		}
		c.tail = c.tail[:0]
	}
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		line := b[i+1:]
		if len(line) < len(teField) {
			// Maybe the start of a field that the next read ends.
			c.tail = append(c.tail[:0], b[bytes.LastIndexByte(b, '\n'):]...)
			return
		}
		if c.lineIsTE(line) {
			return
		}
		j := bytes.IndexByte(line, '\n')
		if j < 0 {
			return
		}
		i += 1 + j
	}
}

// lineIsTE reports, and notes, whether line starts with teField.
func (c *rawConn) lineIsTE(line []byte) bool {
	if len(line) >= len(teField) && bytes.EqualFold(line[:len(teField)], []byte(teField)) {
		c.sawTE.Store(true)
		c.tail = nil
		return true
	}
	return false
}

// ReadFrom keeps sendfile and splice, which net/http uses for files when
// the connection is a *net.TCPConn or *net.UnixConn.
func (c *rawConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// CloseWrite lets net/http half-close the connection, as it does before
// closing after an error, so that the client reads the response.
func (c *rawConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// rawConnKey is the context key of a request's rawConn.
type rawConnKey struct{}

// withRawConn is an http.Server's ConnContext: it gives each request its
// rawConn, if the listener made one (not under TLS, where net/http needs
// its *tls.Conn).
func withRawConn(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*rawConn); ok {
		return context.WithValue(ctx, rawConnKey{}, rc)
	}
	return ctx
}
