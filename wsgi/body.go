package wsgi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// requestBody is a request body read whole before a worker is involved, so
// that a slow client never holds one.
type requestBody struct {
	mem  []byte // the body, if held in memory
	file string // else the file it was spooled to

	budget   *memBudget
	reserved int64 // bytes of budget that mem holds
	counted  bool  // in budget.bodies

	disk    *spoolBudget // nil: none (spool.go)
	spooled int64        // bytes of disk that file holds
}

// release removes the spool file and gives the memory back to the budget.
func (b *requestBody) release() {
	if b.file != "" {
		os.Remove(b.file)
		b.file = ""
	}
	if b.spooled > 0 {
		b.disk.free(b.spooled)
		b.spooled = 0
	}
	b.unreserve()
	if b.counted {
		b.counted = false
		b.budget.end()
	}
}

func (b *requestBody) unreserve() {
	if b.reserved > 0 {
		b.budget.free(b.reserved)
	}
	b.mem, b.reserved = nil, 0
}

// A memBudget bounds the bytes that the request bodies held in memory take
// together (Config.MaxMemoryBodies). A reservation never waits: a body that
// does not fit is spooled to a file instead.
type memBudget struct {
	limit  int64 // negative: no limit
	used   atomic.Int64
	bodies atomic.Int64 // being read or held, in memory or spooled
	full   atomic.Int64 // bodies spooled because the budget had no room

	// After a spike (see spikeBytes) the memory is handed back to the
	// system once no body is left, at most every handBackEvery.
	spiked   atomic.Bool
	lastBack atomic.Int64 // when, in UnixNano
	handBack func()       // nil: debug.FreeOSMemory, handBackDelay later
}

// A spike is the bodies in memory taking spikeBytes or more together
// (or half of a smaller budget).
//
// Why hand memory back: Go returns freed heap to the system only after a
// garbage collection, and one runs only when allocation reaches twice the
// heap live at the last one, or every 2 minutes. A spike of bodies sets
// that mark at up to twice the budget; once the clients are gone nothing
// allocates, and the process stays that large for minutes. One forced
// collection, rare and with a small live heap by then, gives it back at
// once.
//
// It is done handBackDelay after the last body is released, once its
// connection had time to close, so that its buffers are garbage too.
const (
	spikeBytes    = 32 << 20
	handBackEvery = 30 * time.Second
	handBackDelay = time.Second
)

// reserve takes n bytes from the budget, if they fit.
func (m *memBudget) reserve(n int64) bool {
	for {
		u := m.used.Load()
		if m.limit >= 0 && u+n > m.limit {
			return false
		}
		if m.used.CompareAndSwap(u, u+n) {
			if spike := int64(spikeBytes); u+n >= spike || m.limit >= 0 && u+n >= min(spike, m.limit/2) {
				m.spiked.Store(true)
			}
			return true
		}
	}
}

// free gives n bytes back to the budget.
func (m *memBudget) free(n int64) { m.used.Add(-n) }

// begin counts a body in, before it is read.
func (m *memBudget) begin() { m.bodies.Add(1) }

// end counts a body out, once released; after a spike, the last one hands
// the memory back. A spooled body counts too: its connection's buffers are
// part of a spike's memory.
func (m *memBudget) end() {
	if m.bodies.Add(-1) != 0 || !m.spiked.Load() {
		return
	}
	last := m.lastBack.Load()
	now := time.Now().UnixNano()
	if now-last < int64(handBackEvery) || !m.lastBack.CompareAndSwap(last, now) {
		return
	}
	m.spiked.Store(false)
	if m.handBack != nil {
		m.handBack()
		return
	}
	time.AfterFunc(handBackDelay, debug.FreeOSMemory)
}

// Buffer sizes: an in-memory body starts in a buffer of at most
// firstBodyBuffer bytes and doubles as it arrives, so that a client that
// declares a large body and trickles it holds memory (and budget) only for
// what it sent; a spooled body is copied through spoolBuffer bytes.
const (
	firstBodyBuffer = 16 << 10
	spoolBuffer     = 32 << 10
)

// readBody reads r's body, in memory up to MaxMemoryBody while the memory
// budget allows, and spooled to a file past either. On failure it has
// answered the client and returns false. It sets r.ContentLength to the
// length read, so that a chunked body gets its CONTENT_LENGTH. The caller
// releases the body once the exchange is over.
func (c *Container) readBody(w http.ResponseWriter, r *http.Request) (requestBody, bool) {
	b := requestBody{budget: &c.bodies, disk: &c.spool}
	limit := c.cfg.MaxRequestBody
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return b, true
	}
	if limit > 0 && r.ContentLength > limit {
		c.tooLarge(w, r)
		return b, false
	}
	body := io.Reader(r.Body)
	if limit > 0 {
		body = http.MaxBytesReader(w, r.Body, limit)
	}
	b.budget.begin()
	b.counted = true
	whole, err := b.readMem(body, r.ContentLength, c.cfg.MaxMemoryBody)
	if err != nil {
		b.release()
		c.bodyError(w, r, err)
		return requestBody{}, false
	}
	if whole {
		// A body longer than declared is the next request: net/http stops
		// reading at Content-Length, so none can be left here.
		r.ContentLength = int64(len(b.mem))
		return b, true
	}
	total, err := b.spool(c.cfg.SpoolDir, body)
	if err != nil {
		b.release()
		var pe *os.PathError
		if errors.Is(err, errSpoolFull) {
			// Nothing more is read of it: the connection cannot be reused.
			c.spool.refused.Add(1)
			w.Header().Set("Connection", "close")
			c.fail(w, r, false, http.StatusServiceUnavailable, fmt.Errorf("%w: %v", ErrOverloaded, err),
				"reason", "spool budget", "limit", c.cfg.MaxSpoolBytes)
			return requestBody{}, false
		}
		if errors.As(err, &pe) {
			c.fail(w, r, false, http.StatusInternalServerError, fmt.Errorf("%w: cannot spool the request body: %v", ErrInternal, err))
			return requestBody{}, false
		}
		c.bodyError(w, r, err)
		return requestBody{}, false
	}
	r.ContentLength = total
	return b, true
}

// readMem reads body, of declared length (-1 if unknown), into b.mem,
// reserving each buffer from the budget before reading into it. It returns
// true once the whole body is in, false if it is longer than memMax or the
// budget ran out first: then b.mem holds what was read, to be spooled.
func (b *requestBody) readMem(body io.Reader, declared, memMax int64) (bool, error) {
	// Reading memMax+1 bytes of a body of unknown length tells whether it
	// has more than memMax.
	most := memMax + 1
	if declared >= 0 {
		if declared > memMax {
			return false, nil
		}
		most = declared
	}
	buf := b.mem
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) == most {
				return false, nil // a body of unknown length past memMax
			}
			// The budget counts the buffer that is kept: the one it
			// replaces is garbage at once, as any other.
			size := min(max(2*int64(cap(buf)), firstBodyBuffer), most)
			if !b.budget.reserve(size - b.reserved) {
				b.budget.full.Add(1)
				return false, nil
			}
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf, b.reserved = grown, size
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		b.mem = buf
		switch {
		case err == io.EOF && declared >= 0 && int64(len(buf)) < declared:
			return false, io.ErrUnexpectedEOF
		case err == io.EOF, err == nil && int64(len(buf)) == declared:
			return true, nil
		case err != nil:
			return false, err
		}
	}
}

// spool writes b.mem and the rest of body to a new file in dir, which it
// names in b.file, and gives b.mem's memory back. It returns the body's
// length; a failure to write the file is an *os.PathError, and the spool
// budget spent errSpoolFull.
func (b *requestBody) spool(dir string, body io.Reader) (int64, error) {
	f, err := os.CreateTemp(dir, "gowsgi-body-*")
	if err != nil {
		return 0, err
	}
	b.file = f.Name()
	sw := spoolWriter{f: f, b: b}
	head, err := sw.Write(b.mem)
	b.unreserve()
	var rest int64
	if err == nil {
		// Through spoolWriter, not an *os.File, so that io.CopyBuffer uses
		// the buffer given rather than the file's ReadFrom and its own.
		rest, err = io.CopyBuffer(sw, body, make([]byte, spoolBuffer))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return int64(head) + rest, err
}

// bodyError answers a failure to read the request body.
func (c *Container) bodyError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		c.tooLarge(w, r)
	case r.Context().Err() != nil, errors.Is(err, io.ErrUnexpectedEOF):
		// The client left, or sent less than it declared: nobody to answer.
		w.Header().Set("Connection", "close")
		c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: incomplete request body: %v", ErrBadRequest, err))
	default:
		c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: reading the request body: %v", ErrBadRequest, err))
	}
}

func (c *Container) tooLarge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	c.fail(w, r, false, http.StatusRequestEntityTooLarge,
		fmt.Errorf("%w: the request body exceeds the limit of %d bytes", ErrBadRequest, c.cfg.MaxRequestBody))
}
