package asgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/internal/funnel"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/respcheck"
	"github.com/gowsgi/gowsgi/internal/worker"
	"github.com/gowsgi/gowsgi/wsgi"
)

// responder turns the messages the app sends on one http stream into the
// HTTP response.
type responder struct {
	c       *Container
	w       http.ResponseWriter
	r       *http.Request
	s       *worker.Stream
	ctx     context.Context // the request's: net/http cancels it once ServeHTTP returns (pumpBody's Send stops)
	silence silence
	scope   marshal.Raw // until it is sent: a pointer to it is passed to open without an allocation

	// The request is not given a context of its own, which would cost a
	// child registered with net/http's: the silence clock and pumpBody end
	// the wait with Stream.Interrupt instead (end).
	stopOnce sync.Once
	cause    error // why the stream was interrupted

	started  bool  // http.response.start is written
	trailers bool  // the app announced trailers
	body     bool  // the last body (more_body False) is written
	complete bool  // the response is whole
	cut      bool  // the connection must be aborted
	discard  bool  // drop body bytes: no body allowed, or past Content-Length
	declared int64 // the app's Content-Length, or -1
	written  int64
}

// run reads the app's messages until the response is complete or cannot
// be; the stream is then detached (and the app told http.disconnect).
func (rs *responder) run() {
	defer rs.detach()
	for !rs.complete {
		msg, err := rs.recv()
		if err != nil {
			rs.ended(err)
			return
		}
		if err := rs.handle(msg); err != nil {
			rs.refuse(err)
			return
		}
	}
	rs.s.Proc().Served.Add(1)
}

// recv returns the app's next message, waiting for it while the silence
// clock runs (a message already queued, as a response's body is behind its
// start, costs the clock nothing); an error is why the request ended
// (errSilent, a body's, the stream's).
func (rs *responder) recv() (worker.Message, error) {
	msg, ok, err := rs.s.TryRecv()
	if !ok && err == nil {
		rs.silence.start()
		msg, err = rs.s.Recv(rs.ctx)
		rs.silence.stop()
	}
	switch {
	case err == nil:
	case errors.Is(err, worker.ErrInterrupted):
		err = rs.cause
	case rs.ctx.Err() != nil:
		err = context.Cause(rs.ctx)
	}
	return msg, err
}

// end ends the request with cause, once: the wait in recv returns it.
func (rs *responder) end(cause error) {
	rs.stopOnce.Do(func() {
		rs.cause = cause
		rs.s.Interrupt()
	})
}

// silent is the silence clock's end of the request, if Go is still
// waiting for the app.
func (rs *responder) silent() {
	if rs.silence.expired() {
		rs.end(errSilent)
	}
}

// A silence clock is Config.Timeout for one request: it runs while Go
// waits for the app, and restarts whenever the app sends or the client's
// body moves on (an app that answers only once it has a slow upload whole
// is not silent); past it, fire is called, which ends the request with
// errSilent if expired still says so.
type silence struct {
	d       time.Duration // 0: no clock
	fire    func()
	mu      sync.Mutex
	t       *time.Timer // once it first ran
	waiting bool
}

func (s *silence) init(d time.Duration, fire func()) { s.d, s.fire = d, fire }

func (s *silence) start() { s.set(true, true) }
func (s *silence) stop()  { s.set(false, false) }

// touch restarts a running clock: the client's body moved on.
func (s *silence) touch() { s.set(false, true) }

// expired reports whether the clock ran out while Go waited: fire's
// timer may have raced a stop.
func (s *silence) expired() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

func (s *silence) set(wait, reset bool) {
	if s.d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case wait:
		s.waiting = true
		if s.t == nil {
			s.t = time.AfterFunc(s.d, s.fire)
		} else {
			s.t.Reset(s.d)
		}
	case !reset:
		s.waiting = false
		if s.t != nil {
			s.t.Stop()
		}
	case s.waiting:
		s.t.Reset(s.d)
	}
}

// errSilent is an app that sent nothing on a stream for Config.Timeout.
var errSilent = errors.New("asgi: the app sent nothing in time")

// detach lets the app's further messages be dropped and, unless its
// coroutine has ended or its response is complete, tells it the client is
// gone (http.disconnect).
func (rs *responder) detach() {
	rs.s.Detach()
	if rs.complete && !rs.cut {
		// The worker's receive() returns http.disconnect on its own once
		// the app's response is complete (as uvicorn's does): telling it
		// would cost a write and a wake-up of its loop per request.
		return
	}
	select {
	case <-rs.s.Done():
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rs.s.Send(ctx, worker.Message{"type": "http.disconnect"})
}

// handle writes one message of the app's; an error is a message Go
// refuses.
func (rs *responder) handle(msg worker.Message) error {
	typ, _ := msg["type"].(string)
	switch typ {
	case "http.response.start":
		if rs.started {
			return errors.New("http.response.start sent twice")
		}
		return rs.start(msg)
	case "http.response.body":
		if !rs.started || rs.body {
			return errors.New("http.response.body before http.response.start or after the last body")
		}
		b, _ := msg["body"].([]byte)
		more, _ := msg["more_body"].(bool)
		rs.write(b, more)
		if more {
			// The last body is not credited: it is the app's last payload
			// on the stream, every piece before it was credited, and it is
			// at most 64 KiB (the worker cuts bodies), so its send() does
			// not wait for it. One write and one wake-up of the worker less
			// per response.
			rs.s.Consumed(len(b))
		}
		if !more {
			rs.body = true
			rs.complete = !rs.trailers
		}
	case "http.response.trailers":
		if !rs.trailers || !rs.body {
			return errors.New("http.response.trailers not announced, or before the last body")
		}
		if err := rs.setTrailers(msg); err != nil {
			return err
		}
		more, _ := msg["more_trailers"].(bool)
		rs.complete = !more
	case "http.response.pathsend":
		if !rs.started || rs.body {
			return errors.New("http.response.pathsend before http.response.start or after the last body")
		}
		path, _ := msg["path"].(string)
		if err := rs.sendFile(path); err != nil {
			return err
		}
		rs.body = true
		rs.complete = !rs.trailers
	default:
		return fmt.Errorf("unexpected message %q on an http stream", typ)
	}
	return nil
}

// start writes the status line and headers.
func (rs *responder) start(msg worker.Message) error {
	status, ok := msg["status"].(int64)
	if !ok || status < 200 || status > 599 {
		return fmt.Errorf("http.response.start: status %v is not an int from 200 to 599", msg["status"])
	}
	h := rs.w.Header()
	hs := respcheck.NewHeaders(h)
	if err := addHeaders(msg["headers"], &hs); err != nil {
		for k := range h {
			delete(h, k)
		}
		return fmt.Errorf("http.response.start: %w", err)
	}
	hs.Finish()
	rs.declared = hs.Declared()
	rs.trailers, _ = msg["trailers"].(bool)
	if rs.trailers && !trailersAllowed(rs.r) {
		rs.trailers = false // not advertised: the app sends them anyway, Go drops them
	}
	rs.started = true
	if status == http.StatusNoContent || status == http.StatusNotModified || rs.r.Method == http.MethodHead {
		rs.discard = true
	}
	rs.w.WriteHeader(int(status))
	return nil
}

// eachHeader calls f with each [name, value] pair of an ASGI header list,
// the name lower-cased bytes, as the worker decoded it.
func eachHeader(v any, f func(name, value string) error) error {
	if pairs, ok := v.(marshal.Pairs); ok {
		for _, p := range pairs {
			if err := f(string(p[0]), string(p[1])); err != nil {
				return err
			}
		}
		return nil
	}
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("headers are a %T, not a list", v)
	}
	for _, item := range list {
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			return fmt.Errorf("header %v is not a [name, value] pair", item)
		}
		name, ok1 := pair[0].([]byte)
		value, ok2 := pair[1].([]byte)
		if !ok1 || !ok2 {
			return fmt.Errorf("header %v: name and value must be bytes", item)
		}
		if err := f(string(name), string(value)); err != nil {
			return err
		}
	}
	return nil
}

// write writes a body chunk, flushed unless it is the last (net/http then
// sets Content-Length itself for a short body) of a response without
// trailers (which need the chunked encoding).
func (rs *responder) write(b []byte, more bool) {
	if rs.discard || rs.cut {
		return
	}
	if rs.declared >= 0 && rs.written+int64(len(b)) > rs.declared {
		rs.c.log.Error("app sent more than its Content-Length; the excess was dropped",
			"request_id", funnel.RequestID(rs.w, rs.r), "method", rs.r.Method, "path", rs.r.URL.Path,
			"content_length", rs.declared)
		b = b[:rs.declared-rs.written]
		rs.discard = true
	}
	if len(b) > 0 {
		n, err := rs.w.Write(b)
		rs.written += int64(n)
		if err != nil {
			rs.writeFailed(err)
			return
		}
	}
	if more || rs.trailers {
		if err := http.NewResponseController(rs.w).Flush(); err != nil {
			rs.writeFailed(err)
		}
	}
}

// writeFailed handles a failed write to the client.
func (rs *responder) writeFailed(err error) {
	rs.discard = true
	if errors.Is(err, http.ErrBodyNotAllowed) {
		return
	}
	// The client went away: the app hears http.disconnect.
	rs.cut = true
	rs.complete = true
}

// setTrailers declares the trailers of an http.response.trailers message.
func (rs *responder) setTrailers(msg worker.Message) error {
	h := rs.w.Header()
	return eachHeader(msg["headers"], func(name, value string) error {
		key, err := respcheck.Header(name, value)
		if err != nil {
			return fmt.Errorf("http.response.trailers: %w", err)
		}
		h.Add(http.TrailerPrefix+key, value)
		return nil
	})
}

// sendFile sends the file of an http.response.pathsend (sendfile(2) when
// the connection allows it).
func (rs *responder) sendFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("http.response.pathsend: %w", err)
	}
	defer f.Close()
	if rs.discard {
		return nil
	}
	var src io.Reader = f
	if rs.declared >= 0 {
		src = io.LimitReader(f, rs.declared-rs.written)
	}
	n, err := io.Copy(rs.w, src)
	rs.written += n
	if err != nil {
		rs.writeFailed(err)
	}
	return nil
}

// refuse answers 500 for a message Go will not send (or cuts the started
// response); the app hears http.disconnect.
func (rs *responder) refuse(err error) {
	rs.fail(http.StatusInternalServerError, fmt.Errorf("%w: %v", wsgi.ErrInvalidResponse, err))
}

// ended handles a stream that ended, or a wait that did, before the
// response was complete.
func (rs *responder) ended(err error) {
	var ae *worker.AppError
	var le *worker.LostError
	switch {
	case errors.Is(err, errTooLarge):
		rs.w.Header().Set("Connection", "close")
		if !rs.started {
			rs.c.tooLarge(rs.w, rs.r)
			return
		}
		rs.cut = true
	case errors.Is(err, errBodyBroken):
		rs.fail(http.StatusBadRequest, fmt.Errorf("%w: reading the request body: %v", wsgi.ErrBadRequest, err))
	case rs.r.Context().Err() != nil:
		// The client left; the app hears http.disconnect.
		rs.cut = rs.started
	case errors.Is(err, errSilent):
		rs.fail(http.StatusGatewayTimeout, fmt.Errorf("%w: the app sent nothing on this request for %v",
			wsgi.ErrTimeout, rs.c.cfg.Timeout), "timeout", rs.c.cfg.Timeout)
	case errors.As(err, &ae):
		rs.fail(http.StatusInternalServerError, wsgi.ErrAppRaised, "traceback", ae.Traceback)
	case errors.As(err, &le) && le.TimedOut:
		rs.fail(http.StatusGatewayTimeout, fmt.Errorf("%w: %v; its Python stacks are above", wsgi.ErrTimeout, le),
			"timeout", rs.c.cfg.Timeout)
	case errors.As(err, &le):
		rs.fail(http.StatusBadGateway, fmt.Errorf("%w: %v", wsgi.ErrWorkerLost, le))
	case errors.Is(err, io.EOF):
		what := "the app returned without sending a response"
		if rs.started {
			what = "the app returned before its response was complete"
		}
		rs.fail(http.StatusInternalServerError, fmt.Errorf("%w: %s", wsgi.ErrInvalidResponse, what))
	default:
		rs.fail(http.StatusInternalServerError, fmt.Errorf("%w: %v", wsgi.ErrInternal, err))
	}
}

// fail answers in the app's place through the error funnel, or cuts the
// connection if the response has started.
func (rs *responder) fail(status int, err error, attrs ...any) {
	p := rs.s.Proc()
	attrs = append(attrs, "worker", p.ID, "pid", p.PID(), "stream", rs.s.ID())
	if rs.c.fail(rs.w, rs.r, rs.started, status, err, attrs...) {
		rs.cut = true
	}
	rs.started = true
}
