package rawio

import (
	"io"
	"os"
	"syscall"
)

// A Lender lends a LentReader its buffers.
type Lender interface {
	Lend() []byte  // a buffer to read into, not empty
	Return([]byte) // one that Lend gave, back
}

// A LentReader reads a socket, as FD's Read does, into a buffer that a
// Lender lends it only once the socket is readable, and returns the buffer
// once every byte of it was read: a LentReader that waits for the peer holds
// no buffer. It serves one Read at a time; it is meant for the many sockets
// that mostly wait (idle WebSockets), under a small bufio.Reader.
type LentReader struct {
	rc   syscall.RawConn
	net  string // for errors
	l    Lender
	buf  []byte // lent, while rest holds some of it
	rest []byte // read and not yet taken: of buf, or NewLentReader's first
	rn   int
	rerr syscall.Errno
	fill func(fd uintptr) bool
	wait bool // Fill's
	none bool // Fill found nothing and was not to wait
}

// NewLentReader returns a LentReader of c's socket, whose first bytes are
// first (bytes already read from the socket, by a bufio.Reader say); network
// names it in errors.
func NewLentReader(c syscall.Conn, network string, l Lender, first []byte) (*LentReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &LentReader{rc: rc, net: network, l: l, rest: first}
	r.fill = r.read
	return r, nil
}

// Read is net.Conn's Read: what is there, waiting until something is;
// io.EOF once the peer has closed its end.
func (r *LentReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if _, err := r.Fill(true); err != nil {
		return 0, err
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	if len(r.rest) == 0 {
		r.giveBack()
	}
	return n, nil
}

// Buffered is how many bytes were read and not yet taken.
func (r *LentReader) Buffered() int { return len(r.rest) }

// Fill reads into a lent buffer if none of what was read is left, waiting
// until something comes (holding no buffer) if wait, else not: ok is
// false if nothing was there. Errors are Read's.
func (r *LentReader) Fill(wait bool) (ok bool, err error) {
	if len(r.rest) > 0 {
		return true, nil
	}
	r.rn, r.rerr, r.wait, r.none = 0, 0, wait, false
	err = r.rc.Read(r.fill)
	n := r.rn
	switch {
	case err != nil:
		err = opError(r.net, "read", err)
	case r.rerr != 0:
		err = opError(r.net, "read", os.NewSyscallError("read", r.rerr))
	case r.none:
		return false, nil
	case n == 0:
		err = io.EOF
	}
	if err != nil {
		r.giveBack()
		return false, err
	}
	r.rest = r.buf[:n]
	return true, nil
}

// giveBack returns the buffer, if one is lent, and forgets what was read.
func (r *LentReader) giveBack() {
	if r.buf != nil {
		r.l.Return(r.buf)
	}
	r.buf, r.rest = nil, nil
}

func (r *LentReader) read(fd uintptr) bool {
	if r.buf == nil {
		r.buf = r.l.Lend()
	}
	n, e := readRaw(fd, r.buf)
	if e == syscall.EAGAIN {
		// Wait in the netpoller with no buffer, or don't wait.
		r.l.Return(r.buf)
		r.buf = nil
		r.none = !r.wait
		return r.none
	}
	r.rn, r.rerr = n, e
	return true
}
