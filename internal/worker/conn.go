package worker

import (
	"net"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
)

// readBuffer is the size of the buffer each channel reads frames through: big
// enough that a typical response arrives in one read, and that one read
// takes all a worker's send buffer holds (twice workerSendBuffer), so that
// a large body costs a quarter of the reads and wake-ups of 256 KiB: 20%
// less Go CPU per 10 MB download. bufio reads to the front of it once it is
// drained, so it is resident only as far as the largest burst filled it.
const readBuffer = 1 << 20

// workerSendBuffer is the SO_SNDBUF of the worker's end of each channel,
// which bounds what a worker can send before Go reads it (Linux doubles it,
// and caps the request at net.core.wmem_max, 208 KiB by default). More room
// than the default lets a worker that streams a large body go on writing
// while Go sends what came before, instead of sleeping and being woken for
// each piece: 8% more 10 MB downloads a second, 15% less worker CPU each.
const workerSendBuffer = 512 << 10

// Conn is Go's end of the channel to one thread of a worker. One request at a
// time is in flight on it; whoever holds it (see package pool) reads R and
// writes with Write, while Abort may be called from any goroutine.
type Conn struct {
	Proc   *Process
	Thread int
	r      *frame.Reader // the frames from the worker (Exchange reads them)
	nc     *net.UnixConn
	rights *rightsReader // what R reads through: it keeps File frames' descriptors

	mu      sync.Mutex // serialises writes
	live    bool       // an exchange is under way: Abort may write
	aborted bool       // Abort was sent during this exchange
	seq     uint64     // counts exchanges, so that a late Abort is ignored
	what    string     // the request in flight, for Current
	since   time.Time  // when it began
}

// Note records what the exchange under way is for (say "GET /path"), for
// status pages.
func (c *Conn) Note(what string) {
	c.mu.Lock()
	c.what = what
	c.mu.Unlock()
}

// Current returns the request in flight and when it began; ok is false if
// the channel is idle.
func (c *Conn) Current() (what string, since time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.what, c.since, c.live
}

func newConn(p *Process, thread int, nc *net.UnixConn) *Conn {
	rr := newRightsReader(nc)
	return &Conn{Proc: p, Thread: thread, nc: nc, rights: rr, r: frame.NewReader(rr, readBuffer)}
}

// begin writes the buffers of a Request frame and opens an exchange,
// which it returns the number of, for Abort.
func (c *Conn) begin(bufs *net.Buffers) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live, c.aborted = true, false
	c.seq++
	c.what, c.since = "", time.Now()
	_, err := c.rights.raw.Writev(*bufs)
	return c.seq, err
}

// Abort asks the worker to stop the response of exchange seq. It does
// nothing once that exchange has ended, so that a late Abort never reaches
// the next one.
func (c *Conn) Abort(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live && !c.aborted && c.seq == seq {
		c.aborted = true
		c.nc.Write(abortFrame)
	}
}

// Finish closes the exchange. The channel of a worker that has exited is
// closed with its last exchange.
func (c *Conn) Finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = false
	c.rights.reset()
	if c.Proc.State() == Exited {
		c.nc.Close()
	}
}

// closeIfIdle closes the channel unless an exchange is reading it; Finish
// closes it then.
func (c *Conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		c.nc.Close()
		c.rights.reset()
	}
}

// SetReadTimeout bounds each wait for the worker's bytes: a read of R that
// gets nothing for d fails with os.ErrDeadlineExceeded. It bounds what the
// worker takes, not what the caller does between reads (writing a payload
// to a slow client, say). 0 means no bound.
func (c *Conn) SetReadTimeout(d time.Duration) { c.rights.wait = d }

// Close closes our end of the channel, failing any read in progress.
func (c *Conn) Close() error {
	err := c.nc.Close()
	c.rights.reset()
	return err
}

// Alive reports whether the worker process can still serve on c.
func (c *Conn) Alive() bool { return c.Proc.State() == Ready }

func (c *Conn) closeWrite() { c.nc.CloseWrite() }

var abortFrame = frame.AppendHeader(nil, frame.Abort, 0)
