// Package rawio reads and writes sockets with raw system calls
// (syscall.RawSyscall, inside the socket's syscall.RawConn), waiting in Go's
// netpoller as the net package's connections do.
//
// The difference from net.Conn's Read and Write is what the Go scheduler
// is told. A syscall.Syscall enters and leaves the scheduler
// (entersyscall), and the first one after every P went idle wakes the
// runtime's sysmon thread, which then polls every 20 µs until the
// process is idle again. A server that waits for its Python workers goes
// idle between almost every two requests, so each request paid a futex
// wake-up and a few sysmon wake-ups: with the app taking 300 µs, 10-20%
// of the Go process's CPU per request. The sockets are non-blocking, so a
// raw call never blocks: EAGAIN parks the goroutine in the netpoller, and
// deadlines and Close work as they do on the net.Conn the socket came
// from. Nothing else changes: sysmon still wakes for every other system
// call, and its other duties go on.
package rawio

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// FD is one socket's raw reads and writes. One read and one write may be
// in progress at a time, as net/http and package worker use a connection:
// reads of it must not overlap, nor must writes.
type FD struct {
	rc  syscall.RawConn
	net string // for errors: "tcp", "unix"

	// the read in progress
	msg      syscall.Msghdr
	iov      syscall.Iovec
	rbuf     []byte
	rn       int
	rerr     syscall.Errno
	readFunc func(fd uintptr) bool
	recvFunc func(fd uintptr) bool

	// the write in progress
	iovs      [2]syscall.Iovec
	wbufs     [][]byte
	wone      [1][]byte
	wn        int64
	werr      syscall.Errno
	writeFunc func(fd uintptr) bool
}

// New returns the raw reads and writes of c's socket; network names it in
// errors, as net.OpError's Net does.
func New(c syscall.Conn, network string) (*FD, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	f := &FD{rc: rc, net: network}
	f.readFunc, f.recvFunc, f.writeFunc = f.read, f.recv, f.writev
	return f, nil
}

// Read is net.Conn's Read: read(2), waiting until something is there;
// io.EOF once the peer has closed its end.
func (f *FD) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	f.rbuf, f.rn, f.rerr = p, 0, 0
	err := f.rc.Read(f.readFunc)
	f.rbuf = nil
	n := f.rn
	switch {
	case err != nil:
		return 0, f.opError("read", err)
	case f.rerr != 0:
		return 0, f.opError("read", os.NewSyscallError("read", f.rerr))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (f *FD) read(fd uintptr) bool {
	n, e := readRaw(fd, f.rbuf)
	if e == syscall.EAGAIN {
		return false // wait in the netpoller
	}
	f.rn, f.rerr = n, e
	return true
}

// readRaw is read(2) of fd into p, again if a signal interrupted it; an
// Errno of 0 is success.
func readRaw(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e != syscall.EINTR {
			return int(n), e
		}
	}
}

// ReadMsg is net.UnixConn's ReadMsgUnix without the address: recvmsg(2)
// of p and of a control message into oob, its descriptors close-on-exec.
func (f *FD) ReadMsg(p, oob []byte) (n, oobn, flags int, err error) {
	f.iov = syscall.Iovec{}
	if len(p) > 0 {
		f.iov.Base = &p[0]
		f.iov.SetLen(len(p))
	}
	f.msg = syscall.Msghdr{Iov: &f.iov, Iovlen: 1}
	if len(oob) > 0 {
		f.msg.Control = &oob[0]
		f.msg.SetControllen(len(oob))
	}
	f.rn, f.rerr = 0, 0
	err = f.rc.Read(f.recvFunc)
	n, oobn, flags = f.rn, int(f.msg.Controllen), int(f.msg.Flags)
	f.msg, f.iov = syscall.Msghdr{}, syscall.Iovec{} // hold no buffer
	switch {
	case err != nil:
		return 0, 0, 0, f.opError("read", err)
	case f.rerr != 0:
		return 0, 0, 0, f.opError("read", os.NewSyscallError("recvmsg", f.rerr))
	}
	closeOnExec(oob[:oobn])
	if n == 0 && len(p) > 0 {
		return 0, oobn, flags, io.EOF
	}
	return n, oobn, flags, nil
}

func (f *FD) recv(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd,
			uintptr(unsafe.Pointer(&f.msg)), recvFlags)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		f.rn, f.rerr = int(n), e
		return true
	}
}

// Write is net.Conn's Write: every byte of p, or an error.
func (f *FD) Write(p []byte) (int, error) {
	f.wone[0] = p
	n, err := f.Writev(f.wone[:])
	f.wone[0] = nil
	return int(n), err
}

// Writev writes every byte of bufs with writev(2), two buffers a call, and
// consumes them, as net.Buffers' WriteTo does.
func (f *FD) Writev(bufs [][]byte) (int64, error) {
	f.wbufs, f.wn, f.werr = bufs, 0, 0
	err := f.rc.Write(f.writeFunc)
	n := f.wn
	f.wbufs, f.iovs = nil, [2]syscall.Iovec{}
	if err != nil {
		return n, f.opError("write", err)
	}
	if f.werr != 0 {
		return n, f.opError("write", os.NewSyscallError("writev", f.werr))
	}
	return n, nil
}

func (f *FD) writev(fd uintptr) bool {
	for {
		k := 0
		for _, b := range f.wbufs {
			if k == len(f.iovs) {
				break
			}
			if len(b) > 0 {
				f.iovs[k] = syscall.Iovec{Base: &b[0]}
				f.iovs[k].SetLen(len(b))
				k++
			}
		}
		if k == 0 {
			return true // all written
		}
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd,
			uintptr(unsafe.Pointer(&f.iovs[0])), uintptr(k))
		switch e {
		case 0:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait until the peer has read
		default:
			f.werr = e
			return true
		}
		f.wn += int64(n)
		f.consume(int(n))
	}
}

// consume drops the first n bytes written from wbufs.
func (f *FD) consume(n int) {
	for len(f.wbufs) > 0 && n >= len(f.wbufs[0]) {
		n -= len(f.wbufs[0])
		f.wbufs[0] = nil
		f.wbufs = f.wbufs[1:]
	}
	if len(f.wbufs) > 0 {
		f.wbufs[0] = f.wbufs[0][n:]
	}
}

// opError names the operation as the net package's errors do ("read tcp
// ..."), not the "raw-read" of a RawConn; errors.Is still finds the cause
// (os.ErrDeadlineExceeded, net.ErrClosed, a syscall.Errno).
func (f *FD) opError(op string, err error) error { return opError(f.net, op, err) }

func opError(network, op string, err error) error {
	// The RawConn's own *net.OpError is the usual err (a read that
	// net/http's background reader aborts, once per request): a type
	// assertion, not errors.As, whose target would cost an allocation.
	oe, ok := err.(*net.OpError)
	if !ok {
		oe, ok = asOpError(err)
	}
	if ok {
		e := *oe
		e.Op = op
		return &e
	}
	return &net.OpError{Op: op, Net: network, Err: err}
}

// asOpError is errors.As(err, *net.OpError), apart (and not inlined) so
// that its target is allocated only when it is called.
//
//go:noinline
func asOpError(err error) (*net.OpError, bool) {
	var oe *net.OpError
	ok := errors.As(err, &oe)
	return oe, ok
}
