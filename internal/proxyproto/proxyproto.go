// Package proxyproto reads the PROXY protocol header (HAProxy's, versions
// 1 and 2) that a load balancer sends at the start of a connection, so
// that the connection's RemoteAddr is the client's address, not the
// balancer's.
//
// A Listener wraps a net.Listener. Its connections read the header on
// their first Read or RemoteAddr call, in the connection's own goroutine,
// never in Accept, and within a bounded time and size. As gunicorn's
// --proxy-protocol, the header is optional: a connection that does not
// start with one is read as is, with its peer's address. A header from a
// peer that Allow refuses is answered 403 and the connection closed, and
// a malformed one 400, as gunicorn answers them; neither reaches the
// server above.
//
// Version 1 takes TCP4, TCP6 and UNKNOWN; version 2 takes PROXY commands
// over TCP or UDP, IPv4 or IPv6, and LOCAL (health checks), which keep
// the peer's address, as do its unix and unspecified families. The
// addresses of a header are the TCP addresses its source and destination
// name (LocalAddr is the destination).
package proxyproto

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultTimeout is the time a connection has to send its header when
// Listener.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// A Listener accepts connections that may start with a PROXY header.
type Listener struct {
	net.Listener

	// Allow reports whether the peer at addr may send a header; nil
	// allows none. Unix socket peers are for the caller to allow.
	Allow func(addr net.Addr) bool

	// Version, if 1 or 2, is the only version taken; a header of the
	// other is malformed. 0 takes both, as gunicorn's "auto".
	Version int

	// Timeout bounds the time the header takes to arrive; 0 means
	// DefaultTimeout, negative no limit.
	Timeout time.Duration
}

// Accept returns the next connection, which reads its header lazily.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, l: l}, nil
}

// A Conn is a connection from a Listener.
type Conn struct {
	net.Conn
	l *Listener

	once   sync.Once
	br     *bufio.Reader // until its buffer is drained; nil after
	err    error         // reading the header
	hdr    Header
	mu     sync.Mutex // guards br's drain against concurrent Reads
	raddr  net.Addr
	laddr  net.Addr
	header bool
}

// init reads the header, once.
func (c *Conn) init() {
	c.once.Do(func() {
		c.raddr, c.laddr = c.Conn.RemoteAddr(), c.Conn.LocalAddr()
		timeout := c.l.Timeout
		if timeout == 0 {
			timeout = DefaultTimeout
		}
		if timeout > 0 {
			c.Conn.SetReadDeadline(time.Now().Add(timeout))
			defer c.Conn.SetReadDeadline(time.Time{})
		}
		c.br = bufio.NewReaderSize(c.Conn, maxV1) // grows to a v2 header as needed
		hdr, found, err := Read(c.br)
		if found && err == nil && c.l.Version != 0 && hdr.Version != c.l.Version {
			err = &MalformedError{fmt.Sprintf("a v%d header where only v%d is taken", hdr.Version, c.l.Version)}
		}
		if found && err == nil && (c.l.Allow == nil || !c.l.Allow(c.raddr)) {
			err = &ForbiddenError{Peer: c.raddr}
		}
		if err != nil {
			c.err = err
			c.refuse(err)
			return
		}
		if found {
			c.header, c.hdr = true, hdr
			if hdr.Source != nil {
				c.raddr, c.laddr = hdr.Source, hdr.Destination
			}
		}
	})
}

// refuse answers a refused or malformed header as gunicorn does, and
// closes the connection. A connection that failed or timed out before
// saying anything is only closed.
func (c *Conn) refuse(err error) {
	var forbidden *ForbiddenError
	var malformed *MalformedError
	switch {
	case errors.As(err, &forbidden):
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		c.Conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nRequest forbidden"))
	case errors.As(err, &malformed):
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		c.Conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\nInvalid PROXY header\n"))
	}
	c.Conn.Close()
}

// Read reads after the header.
func (c *Conn) Read(p []byte) (int, error) {
	c.init()
	if c.err != nil {
		return 0, c.err
	}
	c.mu.Lock()
	if br := c.br; br != nil {
		if br.Buffered() > 0 {
			n, err := br.Read(p)
			c.mu.Unlock()
			return n, err
		}
		c.br = nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// RemoteAddr is the client's address: the header's source, or the peer's.
func (c *Conn) RemoteAddr() net.Addr {
	c.init()
	return c.raddr
}

// LocalAddr is the header's destination, or the connection's own address.
func (c *Conn) LocalAddr() net.Addr {
	c.init()
	return c.laddr
}

// Header returns the connection's header, and false if it had none.
func (c *Conn) Header() (Header, bool) {
	c.init()
	return c.hdr, c.header
}

// Err returns the error reading the header: a *ForbiddenError, a
// *MalformedError, or the connection's.
func (c *Conn) Err() error {
	c.init()
	return c.err
}

// A ForbiddenError is a header from a peer that Allow refused.
type ForbiddenError struct{ Peer net.Addr }

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("proxyproto: PROXY header from %v, which is not allowed to send one", e.Peer)
}

// A MalformedError is a header that is not one.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return "proxyproto: malformed PROXY header: " + e.Reason }
