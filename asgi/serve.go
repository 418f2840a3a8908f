package asgi

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gowsgi/gowsgi/internal/environ"
	"github.com/gowsgi/gowsgi/internal/pool"
	"github.com/gowsgi/gowsgi/internal/worker"
	"github.com/gowsgi/gowsgi/wsgi"
)

// ServeHTTP runs the application for r: an http scope, or a websocket one
// for a WebSocket handshake.
func (c *Container) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.gate.Enter() {
		c.fail(w, r, false, http.StatusServiceUnavailable, wsgi.ErrNotRunning)
		return
	}
	defer c.gate.Leave()
	if p := r.URL.Path; p == "" || p[0] != '/' {
		c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: the request target %q is not a path", wsgi.ErrBadRequest, p))
		return
	}
	if _, _, ok := environ.Mount(r.URL.Path, c.cfg.Prefix); !ok {
		http.NotFound(w, r)
		return
	}
	if isWebSocket(r) {
		c.serveWebSocket(w, r)
		return
	}
	if limit := c.cfg.MaxRequestBody; limit > 0 && r.ContentLength > limit {
		c.tooLarge(w, r)
		return
	}
	first := c.noBody
	var read int64 // of the body, before the stream opens
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		// The body's first bodyChunk, or all of it, is read before a
		// stream is taken: a slow upload holds no worker capacity, and
		// a body that is too large or broken that soon never reaches
		// the app.
		body, more, err := c.prefetch(r)
		switch {
		case errors.Is(err, errTooLarge):
			c.tooLarge(w, r)
			return
		case err != nil:
			c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: reading the request body: %v", wsgi.ErrBadRequest, err))
			return
		}
		first = worker.Message{"type": "http.request", "body": body, "more_body": more}
		if more {
			read = int64(len(body))
		}
	}
	rs := &responder{c: c, w: w, r: r, declared: -1, scope: c.httpScope(r)}
	s, ok := c.open(w, r, &rs.scope, first)
	if !ok {
		return
	}
	rs.s = s
	rs.scope = nil // sent
	rs.ctx = r.Context()
	rs.silence.init(c.cfg.Timeout, rs.silent)
	if read > 0 {
		// Read the rest while the response goes out (an app may answer
		// before it has read it all): net/http's HTTP/1 server allows
		// that only when asked.
		http.NewResponseController(w).EnableFullDuplex()
		go rs.pumpBody(read)
	}
	rs.run()
	if rs.cut {
		// The response started and cannot be completed: a truncated body
		// must never look complete.
		panic(http.ErrAbortHandler)
	}
}

// open opens r's stream on a worker, or answers in the app's place.
func (c *Container) open(w http.ResponseWriter, r *http.Request, scope any, first worker.Message) (*worker.Stream, bool) {
	s, err := c.pool.OpenStream(r.Context(), scope, first, r.Method+" "+r.URL.Path)
	switch {
	case errors.Is(err, pool.ErrQueueFull), errors.Is(err, pool.ErrWaitedTooLong):
		c.fail(w, r, false, http.StatusServiceUnavailable, fmt.Errorf("%w: %v", wsgi.ErrOverloaded, err), "reason", err.Error())
		return nil, false
	case errors.Is(err, pool.ErrStopped):
		c.fail(w, r, false, http.StatusServiceUnavailable, fmt.Errorf("%w: it is stopping", wsgi.ErrNotRunning))
		return nil, false
	case err != nil:
		if r.Context().Err() == nil {
			c.fail(w, r, false, http.StatusInternalServerError, fmt.Errorf("%w: %v", wsgi.ErrInternal, err))
		}
		return nil, false
	}
	if sb, ok := w.(wsgi.ServedByWriter); ok {
		sb.ServedBy(s.Proc().ID)
	}
	return s, true
}

// fail answers through the error funnel; true means the response had
// started and the connection must be cut.
func (c *Container) fail(w http.ResponseWriter, r *http.Request, started bool, status int, err error, attrs ...any) bool {
	return c.funnel.Fail(w, r, started, status, err, attrs...)
}

func (c *Container) tooLarge(w http.ResponseWriter, r *http.Request) {
	// What is left of the body is not read: the connection cannot be
	// reused.
	w.Header().Set("Connection", "close")
	c.fail(w, r, false, http.StatusRequestEntityTooLarge,
		fmt.Errorf("%w: the request body exceeds %d bytes (Config.MaxRequestBody)", wsgi.ErrBadRequest, c.cfg.MaxRequestBody))
}

// bodyChunk is the most a request body read hands to the app at once.
const bodyChunk = 64 << 10

// errTooLarge and errBodyBroken end a request whose body went wrong.
var (
	errTooLarge   = errors.New("asgi: request body too large")
	errBodyBroken = errors.New("asgi: request body broken")
)

// prefetch reads r's body until it ends or bodyChunk bytes are in, into
// a buffer that grows as they come (a trickled body holds little); more
// says whether the body goes on. A body past Config.MaxRequestBody is
// errTooLarge.
func (c *Container) prefetch(r *http.Request) (body []byte, more bool, err error) {
	size := int64(bodyChunk)
	if r.ContentLength > 0 && r.ContentLength < size {
		size = r.ContentLength + 1 // +1: to read its EOF
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, size))
	if limit := c.cfg.MaxRequestBody; limit > 0 && int64(len(body)) > limit {
		return nil, false, errTooLarge
	}
	return body, int64(len(body)) == size, err
}

// pumpBody sends the request body to the app as it arrives, in
// http.request messages, within the stream's window (Stream.Send waits for
// the app to take what it was sent), after the total bytes prefetch read.
// A body past Config.MaxRequestBody, or one the client broke off, ends the
// request (run sees the cause).
func (rs *responder) pumpBody(total int64) {
	limit := rs.c.cfg.MaxRequestBody
	for {
		size := int64(bodyChunk)
		if left := rs.r.ContentLength - total; rs.r.ContentLength > 0 && left < size {
			size = max(left, 1) // a small body takes a small buffer; 1: to read its EOF
		}
		buf := make([]byte, size) // the message owns it until it is written
		n, err := io.ReadAtLeast(rs.r.Body, buf, 1)
		total += int64(n)
		if limit > 0 && total > limit {
			rs.end(errTooLarge)
			return
		}
		last := err == io.EOF
		if err != nil && !last {
			rs.end(fmt.Errorf("%w: %v", errBodyBroken, err))
			return
		}
		msg := worker.Message{"type": "http.request", "body": buf[:n], "more_body": !last}
		if serr := rs.s.Send(rs.ctx, msg); serr != nil || last {
			return
		}
		rs.silence.touch()
	}
}
