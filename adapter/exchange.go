package adapter

/*
#include "gowsgi.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	"github.com/gowsgi/gowsgi/internal/environ"
)

// errGone is what the handler's reads and writes return once Python has
// closed the response early: the client went away.
var errGone = errors.New("adapter: the WSGI server closed the response (client gone)")

// The kinds of event, as gowsgi.h defines them.
const (
	evRead   = C.GOWSGI_READ
	evLog    = C.GOWSGI_LOG
	evOutput = C.GOWSGI_OUTPUT
	evAbort  = C.GOWSGI_ABORT
)

// An event is what the handler goroutine hands to the Python thread.
type event struct {
	kind    C.int32_t // ev*
	done    bool      // the last event of the request
	want    int       // READ: the size of buf
	buf     []byte    // READ: where the answer goes
	data    *C.char   // C memory, owned by Python once received
	headLen C.int64_t // OUTPUT
	bodyLen C.int64_t
}

// An exchange is one request in flight between a Python thread, which
// calls into the library (next, answer, close), and the goroutine that runs
// the handler. Unbuffered channels hand over each event, so the handler
// waits for Python to take a chunk before it writes the next one: the
// back-pressure of a socket.
type exchange struct {
	handle  cgo.Handle
	events  chan event
	replies chan readReply // answers to READ events
	gone    chan struct{}  // closed when Python takes no more events
	once    sync.Once
	cancel  context.CancelFunc

	mu      sync.Mutex
	pending []byte // the buffer of the READ event that Python is answering
}

type readReply struct {
	n   int
	err error
}

// start runs h for the request that env describes on a new goroutine.
func start(h http.Handler, env map[string]string) *exchange {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), environKey{}, env))
	x := &exchange{
		events:  make(chan event),
		replies: make(chan readReply, 1),
		gone:    make(chan struct{}),
		cancel:  cancel,
	}
	x.handle = cgo.NewHandle(x)
	r, err := environ.NewRequest(env, &body{x: x})
	if err != nil {
		h = badRequest(x, err)
		r = &http.Request{Method: "GET", URL: &url.URL{Path: "/"}, Header: http.Header{}, Body: http.NoBody}
	}
	r = r.WithContext(ctx)
	go x.run(h, newResponse(x, r), r)
	return x
}

// run serves the request and sends the final event, like net/http's
// conn.serve: a panic is logged with its stack and becomes a 500, or drops
// the connection if the head is out already.
func (x *exchange) run(h http.Handler, w *response, r *http.Request) {
	defer x.cancel()
	defer func() {
		v := recover()
		if v != nil && v != http.ErrAbortHandler {
			stack := make([]byte, 64<<10)
			stack = stack[:runtime.Stack(stack, false)]
			x.logf("adapter: panic serving %s %s: %v\n%s", r.Method, r.RequestURI, v, stack)
		}
		w.finish(v != nil)
	}()
	h.ServeHTTP(w, r)
}

// send hands e to Python, or frees it if Python is gone.
func (x *exchange) send(e event) error {
	select {
	case x.events <- e:
		return nil
	case <-x.gone:
		C.gowsgi_free(unsafe.Pointer(e.data))
		return errGone
	}
}

// next waits for the handler's next event and copies it into ev.
func (x *exchange) next(ev *C.gowsgi_event) {
	e := <-x.events
	*ev = C.gowsgi_event{kind: e.kind, want: C.int64_t(e.want), data: e.data, head_len: e.headLen, body_len: e.bodyLen}
	if e.kind == evRead {
		x.mu.Lock()
		x.pending = e.buf
		x.mu.Unlock()
	}
	if e.done {
		ev.done = 1
		x.release()
	}
}

// answer completes the pending read with Python's reply: bytes of body (none
// at its end), or an error message.
func (x *exchange) answer(kind int, b []byte) {
	x.mu.Lock()
	p := x.pending
	x.pending = nil
	x.mu.Unlock()
	if p == nil {
		return
	}
	var r readReply
	switch {
	case kind == 2:
		r.err = fmt.Errorf("adapter: reading wsgi.input: %s", b)
	case len(b) == 0:
		r.err = io.EOF
	default:
		r.n = copy(p, b)
	}
	x.replies <- r
}

// close ends the exchange from the Python side before the handler did.
func (x *exchange) close() {
	x.cancel()
	x.mu.Lock()
	x.pending = nil
	x.mu.Unlock()
	x.release()
}

// release invalidates the handle and fails the handler's pending and future
// sends, once.
func (x *exchange) release() {
	x.once.Do(func() {
		close(x.gone)
		x.handle.Delete()
	})
}

// logf writes a message to wsgi.errors, or to the standard logger once the
// request is over.
func (x *exchange) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	data, n := cbytes(nil, []byte(msg))
	if x.send(event{kind: evLog, data: data, bodyLen: n}) != nil {
		log.Print(msg)
	}
}

func badRequest(x *exchange, err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.logf("adapter: %v", err)
		http.Error(w, "400 Bad Request: "+err.Error(), http.StatusBadRequest)
	})
}

// output sends the response head (if any) and a chunk of body to Python;
// done marks the last event of the request.
func (x *exchange) output(head, body []byte, done bool) error {
	data, n := cbytes(head, body)
	return x.send(event{kind: evOutput, done: done, data: data, headLen: C.int64_t(len(head)), bodyLen: n})
}

// abort tells Python to drop the connection: the response cannot be
// completed.
func (x *exchange) abort() error {
	return x.send(event{kind: evAbort, done: true})
}
