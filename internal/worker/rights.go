package worker

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/internal/rawio"
)

// ErrFileLost is returned by TakeFile when the descriptor of a File frame
// did not reach Go: the kernel dropped it (MSG_CTRUNC), which happens when
// this process has no descriptor left to install it in.
var ErrFileLost = errors.New("worker: the descriptor of a File frame was lost (MSG_CTRUNC): out of file descriptors?")

// errNoFile is a File frame that came with no descriptor.
var errNoFile = errors.New("File frame without a descriptor")

// rightsReader reads a channel with recvmsg(2) and keeps the descriptors
// the worker passes with File frames (SCM_RIGHTS), in the order they come.
//
// Every read of the channel goes through it: read(2) of bytes that carry
// descriptors closes them. On a stream socket the kernel hands a message's
// descriptors to the read that returns the message's first byte, and one
// read never returns the descriptors of two messages, so the n-th
// descriptor queued belongs to the n-th File frame.
type rightsReader struct {
	nc   *net.UnixConn
	raw  *rawio.FD     // nc's reads, as raw system calls
	oob  []byte        // room for one message's descriptors
	wait time.Duration // if > 0, how long each read may wait (Conn.SetReadTimeout)

	mu   sync.Mutex // guards fds and lost: Close may come from any goroutine
	fds  []int      // received, not yet taken
	lost bool       // descriptors were dropped during this exchange
}

func newRightsReader(nc *net.UnixConn) *rightsReader {
	// Room for more than the one descriptor the runtime passes with a File
	// frame, so that only a shortage of descriptors truncates a message.
	raw, err := rawio.New(nc, "unix")
	if err != nil {
		panic(err) // only a nil *net.UnixConn has no RawConn
	}
	return &rightsReader{nc: nc, raw: raw, oob: make([]byte, syscall.CmsgSpace(4*4))}
}

func (r *rightsReader) Read(p []byte) (int, error) {
	if r.wait > 0 {
		r.nc.SetReadDeadline(time.Now().Add(r.wait))
	}
	n, oobn, flags, err := r.raw.ReadMsg(p, r.oob)
	if oobn > 0 || flags&syscall.MSG_CTRUNC != 0 {
		r.keep(r.oob[:oobn], flags&syscall.MSG_CTRUNC != 0)
	}
	return n, err
}

// keep queues the descriptors of a control message.
func (r *rightsReader) keep(oob []byte, truncated bool) {
	var fds []int
	msgs, err := syscall.ParseSocketControlMessage(oob)
	for _, m := range msgs {
		if rights, err := syscall.ParseUnixRights(&m); err == nil {
			fds = append(fds, rights...)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fds = append(r.fds, fds...)
	if truncated || err != nil {
		r.lost = true
	}
}

// take returns the oldest descriptor received as a file the caller owns.
func (r *rightsReader) take() (*os.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost {
		// Which frame a later descriptor belongs to is no longer known.
		r.closeLocked()
		return nil, ErrFileLost
	}
	if len(r.fds) == 0 {
		return nil, errNoFile
	}
	fd := r.fds[0]
	r.fds = r.fds[1:]
	return os.NewFile(uintptr(fd), "gowsgi-file"), nil
}

// reset closes the descriptors no File frame took, at the end of an
// exchange or of the channel.
func (r *rightsReader) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	r.lost = false
}

func (r *rightsReader) closeLocked() {
	for _, fd := range r.fds {
		syscall.Close(fd)
	}
	r.fds = r.fds[:0]
}
