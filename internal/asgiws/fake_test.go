package asgiws

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testTimeout bounds every wait of a test on the other side; it is never
// reached unless the code under test is broken.
const testTimeout = 10 * time.Second

// fakeStream is a Stream whose app is a goroutine of the test (see app).
type fakeStream struct {
	in       chan Message // Serve → app
	out      chan item    // app → Serve
	done     chan struct{}
	endOnce  sync.Once
	last     error // Recv's answer once the app ended; read after done
	consumed atomic.Int64
	sent     atomic.Int64  // payload the app sent
	credits  atomic.Int64  // Consumed calls
	credited chan struct{} // a Consumed call happened
}

// window is the protocol's per-stream window: app.send waits, as the
// worker's send() does, while this much of its payload is uncredited.
const window = 256 << 10

type item struct {
	msg Message
	err error
}

var errStreamEnded = errors.New("fake stream: the app has ended")

func newFakeStream() *fakeStream {
	return &fakeStream{in: make(chan Message), out: make(chan item, 4), done: make(chan struct{}),
		credited: make(chan struct{}, 1)}
}

func (s *fakeStream) Send(ctx context.Context, msg Message) error {
	select {
	case s.in <- msg:
		return nil
	case <-s.done:
		return errStreamEnded
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fakeStream) Recv(ctx context.Context) (Message, error) {
	select {
	case it := <-s.out:
		return s.take(it)
	case <-s.done:
		return nil, s.last
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take returns what Recv returns for it, and ends the stream at the app's
// end.
func (s *fakeStream) take(it item) (Message, error) {
	if it.err != nil {
		s.endOnce.Do(func() { s.last = it.err; close(s.done) })
		return nil, it.err
	}
	return it.msg, nil
}

// pollingStream is a fakeStream that is a Poller too. Its Notify waits in a
// goroutine of the test's: Serve's side is what the tests check.
type pollingStream struct {
	*fakeStream
	mu      sync.Mutex
	pending *item // taken off out by Notify's goroutine
}

func (s *pollingStream) TryRecv() (Message, bool, error) {
	s.mu.Lock()
	it := s.pending
	s.pending = nil
	s.mu.Unlock()
	if it == nil {
		select {
		case x := <-s.out:
			it = &x
		case <-s.done:
			return nil, false, s.last
		default:
			return nil, false, nil
		}
	}
	msg, err := s.take(*it)
	return msg, err == nil, err
}

func (s *pollingStream) Notify(f func()) {
	go func() {
		select {
		case it := <-s.out:
			s.mu.Lock()
			s.pending = &it
			s.mu.Unlock()
		case <-s.done:
		}
		f()
	}()
}

func (s *fakeStream) Consumed(n int) {
	s.consumed.Add(int64(n))
	s.credits.Add(1)
	select {
	case s.credited <- struct{}{}:
	default:
	}
}

// app is the test's side of a fakeStream: what the ASGI app does.
type app struct {
	t testing.TB
	s *fakeStream
}

// receive is the app's await receive().
func (a app) receive() Message {
	a.t.Helper()
	select {
	case m := <-a.s.in:
		return m
	case <-time.After(testTimeout):
		a.t.Errorf("app: nothing received within %v", testTimeout)
		return Message{"type": "test.timeout"}
	}
}

// send is the app's await send(msg): it waits while a whole window is
// uncredited, as the worker does.
func (a app) send(msg Message) {
	a.t.Helper()
	for a.s.sent.Load()-a.s.consumed.Load() >= window {
		select {
		case <-a.s.credited:
		case <-time.After(testTimeout):
			// Fail, and send anyway: one wait is enough to tell.
			a.t.Errorf("app: no credit within %v with %d bytes uncredited", testTimeout, a.s.sent.Load()-a.s.consumed.Load())
			a.s.consumed.Add(window)
		}
	}
	a.s.sent.Add(int64(PayloadLen(msg)))
	a.s.out <- item{msg: msg}
}

// accept is the app's handshake: it hears websocket.connect and accepts.
func (a app) accept() {
	a.t.Helper()
	a.expect(Message{"type": "websocket.connect"})
	a.send(accept)
}

// end ends the app's coroutine: io.EOF for a return, an *AppError for a raise.
func (a app) end(err error) { a.s.out <- item{err: err} }

// expect receives a message and checks its type and values.
func (a app) expect(want Message) Message {
	a.t.Helper()
	got := a.receive()
	for k, v := range want {
		if !equal(got[k], v) {
			a.t.Errorf("app received %v, want %s = %#v", got, k, v)
		}
	}
	return got
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case []byte:
		b, ok := b.([]byte)
		return ok && string(a) == string(b)
	}
	return a == b
}

// served is one connection's server side: what Serve returned, and what
// Options.Fail was given.
type served struct {
	err        error
	failStatus int
	failErr    error
}

// newServer serves each connection with Serve and a fakeStream whose app is
// play, run in its own goroutine; results gets each connection's outcome.
// With opts.Done set (to anything) Serve returns after the handshake and the
// outcome comes through Done.
func newServer(t testing.TB, opts Options, play func(a app)) (srv *httptest.Server, results chan served) {
	return mode{done: opts.Done != nil}.server(t, opts, play)
}

// A mode is a way to run Serve: blocking, with Options.Done, and with Done
// over a Stream that is a Poller and Options.Buffers, as the container runs
// it.
type mode struct{ done, poll bool }

// modes runs f in every mode.
func modes(t *testing.T, f func(t *testing.T, m mode)) {
	t.Run("blocking", func(t *testing.T) { f(t, mode{}) })
	t.Run("Done", func(t *testing.T) { f(t, mode{done: true}) })
	t.Run("Done+Poller", func(t *testing.T) { f(t, mode{done: true, poll: true}) })
}

// server is newServer in mode m (opts.Done is m's).
func (m mode) server(t testing.TB, opts Options, play func(a app)) (srv *httptest.Server, results chan served) {
	t.Helper()
	results = make(chan served, 16)
	var bufs Buffers // the server's, as the container's
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs := newFakeStream()
		var s Stream = fs
		if m.poll {
			s = &pollingStream{fakeStream: fs}
		}
		go play(app{t, fs})
		res := new(served)
		o := opts
		if m.poll && o.Buffers == nil {
			o.Buffers = &bufs
		}
		o.Fail = func(w http.ResponseWriter, r *http.Request, status int, err error) {
			res.failStatus, res.failErr = status, err
			http.Error(w, http.StatusText(status), status)
		}
		end := func(err error) {
			res.err = err
			if left := fs.sent.Load() - fs.consumed.Load(); left < 0 || left >= creditBatch {
				t.Errorf("Serve credited %d payload bytes of the %d the app sent", fs.consumed.Load(), fs.sent.Load())
			}
			results <- *res
		}
		if !m.done {
			o.Done = nil
			end(Serve(w, r, s, o))
			return
		}
		o.Done = end
		if err := Serve(w, r, s, o); err != nil {
			t.Errorf("Serve with Done returned %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, results
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

func result(t *testing.T, results chan served) served {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(testTimeout):
		t.Fatalf("Serve did not return within %v", testTimeout)
	}
	return served{}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

var _ = io.EOF
