package worker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
)

// A Mux multiplexes the streams of an ASGI worker over its one channel
// (see package frame): one goroutine reads the channel and routes each
// frame to its stream's queue, never waiting for the stream's handler
// (the window bounds what a queue holds); writes are serialized.
type Mux struct {
	proc    *Process
	c       *Conn
	timeout time.Duration // a loop that sends nothing this long with streams open is stuck

	wmu     sync.Mutex // guards writing and the buffers
	writing bool       // a goroutine is writing: the others queue their frames for it
	pending []byte     // frames queued while it writes, in order
	spare   []byte     // a drained pending, for reuse

	mu        sync.Mutex
	streams   map[int64]*Stream
	next      int64     // the last id given
	busySince time.Time // when the first of the open streams opened
	stopping  bool      // Stop was asked: shut the write half once no stream is open
	shut      bool      // the write half is shut
	err       error     // why the channel ended; set once
	onFree    func()    // called after a stream ends, outside mu

	last     atomic.Int64 // UnixNano of the last frame read
	timedOut atomic.Bool  // the watchdog killed the worker
	dead     chan struct{}
}

// maxQueued bounds the messages queued for one stream that carry no
// payload (the window bounds those that do): past it the reader waits for
// that stream's handler, so a flood of empty chunks cannot grow a queue
// without bound.
const maxQueued = 1024

func newMux(p *Process, c *Conn, timeout time.Duration) *Mux {
	m := &Mux{proc: p, c: c, timeout: timeout, streams: map[int64]*Stream{}, dead: make(chan struct{})}
	c.mu.Lock()
	c.live = true // the reader owns the channel: Process.end must not close it under it
	c.mu.Unlock()
	go m.read()
	if timeout > 0 {
		go m.watch()
	}
	return m
}

// OnFree sets f to be called each time a stream ends (its Done came, or
// the worker died, or Open failed): room for another, perhaps.
func (m *Mux) OnFree(f func()) {
	m.mu.Lock()
	m.onFree = f
	m.mu.Unlock()
}

// Len reports how many streams are open.
func (m *Mux) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.streams)
}

// StreamInfo describes an open stream, for status pages.
type StreamInfo struct {
	ID      int64
	What    string // "GET /path"
	Since   time.Time
	Unacked int64 // payload bytes sent to the app that it has not consumed
}

// Streams lists the open streams.
func (m *Mux) Streams() []StreamInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]StreamInfo, 0, len(m.streams))
	for _, s := range m.streams {
		s.mu.Lock()
		unacked := s.sent - s.credited
		s.mu.Unlock()
		out = append(out, StreamInfo{ID: s.id, What: s.what, Since: s.since, Unacked: unacked})
	}
	return out
}

// Open starts a stream: the app is called with scope (a Message, or a
// marshal.Raw of one, or a *marshal.Raw, which unlike a Raw costs no
// allocation to pass as an any), and first, if not nil, is the first
// message its receive() returns (in the Open frame itself). what names it
// on status
// pages.
func (m *Mux) Open(scope any, first Message, what string) (*Stream, error) {
	m.mu.Lock()
	if m.err != nil || m.stopping {
		m.mu.Unlock()
		return nil, ErrStreamRefused
	}
	id := m.next + 1
	for m.streams[id] != nil || id <= 0 || id > 1<<31-1 {
		if id <= 0 || id > 1<<31-1 {
			id = 1
		} else {
			id++
		}
	}
	m.next = id
	s := &Stream{m: m, id: id, what: what, since: time.Now(), ready: make(chan struct{}, 1)}
	s.q = s.qbuf[:0]
	if first != nil {
		// Set before the stream is in m.streams, where Streams reads it.
		s.sent = int64(payloadLen(first))
	}
	if len(m.streams) == 0 {
		m.busySince = s.since
	}
	m.streams[id] = s
	m.mu.Unlock()
	if sc, ok := scope.(Message); ok {
		scope = map[string]any(sc) // marshal's fast case, not its reflection
	}
	size := 256 // a first http.request, and a scope's frame header
	switch raw := scope.(type) {
	case marshal.Raw:
		size += len(raw)
	case *marshal.Raw:
		size += len(*raw)
	}
	b, err := appendOpen(make([]byte, 0, size), id, scope, first)
	if err != nil {
		m.free(s)
		return nil, err
	}
	if err := m.write(b); err != nil {
		m.free(s)
		return nil, ErrStreamRefused
	}
	return s, nil
}

// ErrStreamRefused is returned by Open when the worker is stopping or
// gone: nothing reached the app, so another worker may take the stream.
var ErrStreamRefused = errors.New("worker: the worker takes no new streams")

// Stop asks the worker to finish: no stream opens any more, and once the
// last one has ended the channel's write half is shut, on which the worker
// runs lifespan shutdown and exits. (Shutting it at once would leave the
// streams without the Credit frames their responses need.)
func (m *Mux) Stop() {
	m.mu.Lock()
	m.stopping = true
	shut := len(m.streams) == 0 && !m.shut
	m.shut = m.shut || shut
	m.mu.Unlock()
	if shut {
		m.c.closeWrite()
	}
}

// TimedOut reports whether the worker was killed for a stuck loop.
func (m *Mux) TimedOut() bool { return m.timedOut.Load() }

// write writes frames b to the channel as a raw system call (see package
// rawio), as the WSGI channels do: a blocking syscall.Write per frame would
// wake the runtime's sysmon on almost every request.
//
// Writes are gathered: while one goroutine is writing, the others append
// their frames to pending and return, and the writer writes all of them
// in its next system call, until none is left. Streams that open or send
// at once (the next requests of many keep-alive clients, which come in a
// burst once the worker's responses have) then cost the worker one
// wake-up and Go one system call between them. A frame's order on the
// channel is the order of the write calls. A queued frame whose write
// fails is lost without its caller hearing it: the channel is broken then,
// and its reader ends every stream (a *LostError).
func (m *Mux) write(b []byte) error {
	m.wmu.Lock()
	if m.writing {
		m.pending = append(m.pending, b...)
		m.wmu.Unlock()
		return nil
	}
	m.writing = true
	m.wmu.Unlock()
	ours := false // b is the caller's, not a drained pending
	for {
		_, err := m.c.rights.raw.Write(b)
		m.wmu.Lock()
		if ours && cap(b) <= maxSpare {
			m.spare = b[:0]
		}
		if err != nil || len(m.pending) == 0 {
			m.pending = m.pending[:0]
			m.writing = false
			m.wmu.Unlock()
			return err
		}
		b, m.pending, m.spare = m.pending, m.spare, nil
		ours = true
		m.wmu.Unlock()
	}
}

// maxSpare bounds the pending buffer write keeps for reuse: a burst of
// large bodies' frames need not stay resident.
const maxSpare = 64 << 10

// appendFrame appends a frame of type t whose payload is (stream, v).
func appendFrame(b []byte, t frame.Type, stream int64, v any) ([]byte, error) {
	start := len(b)
	b = frame.AppendHeader(b, t, 0)
	b = marshal.AppendTuple(b, 2)
	b = marshal.AppendInt(b, int32(stream))
	b, err := marshal.AppendValue(b, v)
	if err != nil {
		return b[:start], fmt.Errorf("worker: %v frame: %w", t, err)
	}
	n := len(b) - start - frame.HeaderLen
	if n > frame.MaxMeta {
		return b[:start], fmt.Errorf("worker: %v frame of %d bytes exceeds %d", t, n, frame.MaxMeta)
	}
	binary.LittleEndian.PutUint32(b[start+1:], uint32(n))
	return b, nil
}

// appendOpen appends the Open frame of stream: (stream, scope, first),
// first a message dict or, if nil, None. The worker queues first for the
// app's receive() as a Message frame's: one frame, decoded in one call.
func appendOpen(b []byte, stream int64, scope any, first Message) ([]byte, error) {
	start := len(b)
	b = frame.AppendHeader(b, frame.Open, 0)
	b = marshal.AppendTuple(b, 3)
	b = marshal.AppendInt(b, int32(stream))
	var err error
	if raw, ok := scope.(*marshal.Raw); ok {
		b = append(b, *raw...)
	} else {
		b, err = marshal.AppendValue(b, scope)
	}
	if err == nil {
		if first != nil {
			b, err = marshal.AppendValue(b, map[string]any(first))
		} else {
			b = marshal.AppendNone(b)
		}
	}
	if err != nil {
		return b[:start], fmt.Errorf("worker: %v frame: %w", frame.Open, err)
	}
	n := len(b) - start - frame.HeaderLen
	if n > frame.MaxMeta {
		return b[:start], fmt.Errorf("worker: %v frame of %d bytes exceeds %d", frame.Open, n, frame.MaxMeta)
	}
	binary.LittleEndian.PutUint32(b[start+1:], uint32(n))
	return b, nil
}

// free forgets stream s once it has ended.
func (m *Mux) free(s *Stream) {
	m.mu.Lock()
	if m.streams[s.id] != s {
		m.mu.Unlock()
		return
	}
	delete(m.streams, s.id)
	shut := m.stopping && len(m.streams) == 0 && !m.shut
	m.shut = m.shut || shut
	onFree := m.onFree
	m.mu.Unlock()
	if shut {
		m.c.closeWrite()
	}
	if onFree != nil {
		onFree()
	}
}

// read routes the worker's frames to their streams until the channel ends.
func (m *Mux) read() {
	err := m.route()
	if errors.Is(err, io.EOF) {
		// The worker closed its end: it is exiting (after lifespan
		// shutdown, say). One that lingers is killed.
		select {
		case <-m.proc.Done():
		case <-time.After(exitGrace):
		}
	}
	if m.proc.State() != Exited {
		// Nonsense, or an end without exit: it cannot be trusted.
		if errors.Is(err, io.EOF) {
			// Say why: tasks the app left running (refusing their
			// cancellation) keep a worker alive after its loop ended.
			m.proc.log.Warn("worker closed its channel but did not exit: killing it",
				"worker", m.proc.ID, "pid", m.proc.PID(), "grace", exitGrace)
		}
		m.proc.Kill()
	}
	<-m.proc.Done()
	m.mu.Lock()
	m.err = err
	streams := m.streams
	m.streams = map[int64]*Stream{}
	onFree := m.onFree
	m.mu.Unlock()
	lost := &LostError{Proc: m.proc, TimedOut: m.timedOut.Load(), Err: err}
	for _, s := range streams {
		s.finish(lost)
		if onFree != nil {
			onFree()
		}
	}
	close(m.dead)
	m.c.mu.Lock()
	m.c.live = false
	m.c.mu.Unlock()
	m.c.Close()
}

func (m *Mux) route() error {
	r := m.c.r
	var woken []*Stream // streams with messages queued, to wake once the read is routed
	var dec marshal.OwnedDecoder
	for {
		if !r.Buffered() {
			// All that was read is routed: wake the streams' handlers
			// before the reader waits for more.
			for i, s := range woken {
				s.wake()
				woken[i] = nil
			}
			woken = woken[:0]
		}
		t, n, err := r.Next()
		if err != nil {
			return err
		}
		m.last.Store(time.Now().UnixNano())
		meta, err := r.Meta(t, n)
		if err != nil {
			return &ProtocolError{Err: err}
		}
		id, v, err := decodeFrame(&dec, t, meta)
		if err != nil {
			return &ProtocolError{Err: err}
		}
		m.mu.Lock()
		s := m.streams[id]
		m.mu.Unlock()
		if s == nil {
			if t == frame.Credit {
				continue // for a stream whose Done raced it: harmless
			}
			return &ProtocolError{Err: fmt.Errorf("%v frame for stream %d, which is not open", t, id)}
		}
		switch t {
		case frame.Message, frame.Head, frame.Piece:
			msg, ok := v.(Message)
			if !ok {
				return &ProtocolError{Err: fmt.Errorf("Message frame of stream %d carries a %T, not a dict", id, v)}
			}
			queued, err := s.push(msg)
			if err != nil {
				return &ProtocolError{Err: err}
			}
			if queued && (len(woken) == 0 || woken[len(woken)-1] != s) {
				woken = append(woken, s)
			}
		case frame.Credit:
			c, ok := v.(int64)
			if !ok || c < 0 {
				return &ProtocolError{Err: fmt.Errorf("Credit frame of stream %d: %v is not a count", id, v)}
			}
			s.addCredit(c)
		case frame.Done:
			var end error = errEnded
			switch tb := v.(type) {
			case nil:
			case string:
				end = &AppError{Traceback: tb}
			default:
				return &ProtocolError{Err: fmt.Errorf("Done frame of stream %d: %T is not a traceback", id, v)}
			}
			// Freed first: once its handler sees the end, the stream no
			// longer counts as open (Len).
			m.free(s)
			s.finish(end)
		default:
			return &ProtocolError{Err: fmt.Errorf("unexpected %v frame on an ASGI channel", t)}
		}
	}
}

// decodeFrame decodes the (stream, value) payload of an ASGI frame with
// dec (the reader's: its scratch space is reused); a message dict comes
// back as a Message that owns its bytes (see marshal.DecodeOwned: at most
// one copy of the frame, no map[any]any or tuple in between), and so do
// the compact Head and Piece frames, as the messages they are.
func decodeFrame(dec *marshal.OwnedDecoder, t frame.Type, meta []byte) (int64, any, error) {
	switch t {
	case frame.Piece:
		return decodePiece(meta)
	case frame.Head:
		// (stream, status, headers, trailers), as the http.response.start
		// Message it stands for.
		var rest [3]any
		id, err := dec.Tuple(meta, rest[:])
		if err != nil {
			return 0, nil, fmt.Errorf("%v frame: want (stream, status, headers, trailers): %w", t, err)
		}
		return id, Message{"type": "http.response.start", "status": rest[0], "headers": rest[1], "trailers": rest[2]}, nil
	}
	id, v, err := dec.Pair(meta)
	if err != nil {
		return 0, nil, fmt.Errorf("%v frame: want a (stream, value) tuple: %w", t, err)
	}
	if m, ok := v.(map[string]any); ok {
		return id, Message(m), nil
	}
	return id, v, nil
}

// decodePiece reads a Piece frame (stream, more_body, raw body) as the
// http.response.body Message it stands for, its body a copy.
func decodePiece(meta []byte) (int64, any, error) {
	if len(meta) < 5 || meta[4] > 1 {
		return 0, nil, fmt.Errorf("Piece frame: %d bytes, want a stream, a more_body byte of 0 or 1 and the body", len(meta))
	}
	id := int64(int32(binary.LittleEndian.Uint32(meta)))
	body := make([]byte, len(meta)-5)
	copy(body, meta[5:])
	return id, Message{"type": "http.response.body", "body": body, "more_body": meta[4] == 1}, nil
}

// watch kills a worker whose event loop is stuck: streams are open and it
// has sent no frame for the timeout (blocking code on the loop). Its
// Python stacks go to the log first. Past half the timeout it is pinged
// (a Credit of stream 0, which a worker's loop echoes), so that a loop
// that is merely idle, its apps all awaiting something, answers.
func (m *Mux) watch() {
	t := time.NewTicker(max(m.timeout/4, 10*time.Millisecond))
	defer t.Stop()
	var pinged time.Time
	for {
		select {
		case <-m.dead:
			return
		case now := <-t.C:
			m.mu.Lock()
			open, since := len(m.streams), m.busySince
			m.mu.Unlock()
			last := time.Unix(0, m.last.Load())
			if last.After(since) {
				since = last
			}
			quiet := now.Sub(since)
			if open == 0 || quiet < m.timeout/2 {
				continue
			}
			if quiet < m.timeout {
				if pinged.Before(since) {
					pinged = now
					m.write(pingFrame)
				}
				continue
			}
			m.timedOut.Store(true)
			m.proc.log.Error("worker's event loop sent nothing while streams were open: killing it",
				"worker", m.proc.ID, "pid", m.proc.PID(), "timeout", m.timeout, "streams", open)
			m.proc.DumpStacks(time.Second)
			m.proc.Kill()
			return
		}
	}
}

// pingFrame is a Credit of 0 bytes for stream 0, which is never open: the
// worker's loop answers it with the same frame, and any frame shows it
// alive.
var pingFrame, _ = appendFrame(nil, frame.Credit, 0, int64(0))

// A LostError ends the streams of a worker that died, was killed for a
// stuck loop (TimedOut), or broke the protocol.
type LostError struct {
	Proc     *Process
	TimedOut bool
	Err      error // what the channel's reader saw
}

func (e *LostError) Error() string {
	what := "ended"
	if e.TimedOut {
		what = "was killed: its event loop was stuck"
	}
	return fmt.Sprintf("%v %s (%s): %v", e.Proc, what, e.Proc.Exit(), e.Err)
}

func (e *LostError) Unwrap() error { return e.Err }

// An AppError is an app's coroutine that raised: Traceback is Python's.
type AppError struct{ Traceback string }

func (e *AppError) Error() string { return "the app raised:\n" + e.Traceback }
