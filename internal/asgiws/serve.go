package asgiws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/coder/websocket"
)

// Serve runs the WebSocket connection that r asks for with the app on the
// other end of s (whose scope the caller opened, see Scope), until the app's
// coroutine ends. It returns nil if the connection ended as the protocol
// allows, whoever closed it (a client that broke off included), else why
// not: the app raised (an *AppError), sent a bad message (ErrBadMessage) or
// returned before it answered the handshake (ErrNoResponse), or the
// stream's own error. Before the handshake such an error is answered through
// Options.Fail; after it, the socket is closed with 1011. With Options.Done
// set, Serve returns once the handshake is answered, and the rest runs on
// goroutines of its own (see Done).
//
// The caller routes to Serve only requests with "Upgrade: websocket"; an
// invalid handshake gets the 4xx that coder/websocket answers, and the app a
// websocket.disconnect. Origin is not checked: it is in the scope's headers,
// for the app to judge, as with other ASGI servers. If the app cuts a denial
// response short, Serve panics with http.ErrAbortHandler, as a handler does
// to abort a response.
//
// r's context bounds the handshake: done (the client left, the caller
// stops) before the app answered, the app gets websocket.disconnect 1006.
// After the handshake nothing of r bounds the connection (net/http cancels
// r's context neither when a hijacked client goes nor when the server shuts
// down, and may cancel it at the hijack when a client closes at once): the
// client closing, Options.Stop or the stream failing (a stopped container
// makes Recv fail; Serve closes the socket with 1011) end it. A Serve or
// Done that returns before the app's coroutine ended (only when r's context
// was done during the handshake, or a Send failed) leaves the rest of the
// stream to the caller. Past the handshake the stream's context carries
// none of r's values either: they would keep the request alive (its
// headers, and what middleware such as an access log put in its context)
// for as long as the socket.
func Serve(w http.ResponseWriter, r *http.Request, s Stream, opts Options) error {
	c := &conn{w: w, r: r, path: r.URL.Path, s: s, opts: opts, log: opts.logger()}
	var then func(context.Context) error
	if err := s.Send(r.Context(), Message{"type": "websocket.connect"}); err != nil {
		then = c.handshakeLost(r.Context(), err)
	} else {
		then = c.handshake(r.Context())
	}
	// The rest needs neither: let the GC have net/http's buffers.
	c.w, c.r = nil, nil
	return c.finish(then)
}

// finish runs what follows the handshake: here, or on a goroutine of its
// own that gives its outcome to Options.Done. It runs on a context of its
// own, which nothing cancels (see Serve).
func (c *conn) finish(then func(context.Context) error) error {
	if c.opts.Done == nil {
		return then(context.Background())
	}
	go func() {
		if err := then(context.Background()); err != errPolling {
			c.opts.Done(err)
		}
	}()
	return nil
}

// done returns a continuation that only returns err.
func done(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

// conn is one connection's state, shared by the goroutine that serves the
// app's messages and the one that reads the client's.
type conn struct {
	w    http.ResponseWriter // until the handshake is answered
	r    *http.Request       // until the handshake is answered
	path string              // for log lines
	s    Stream
	opts Options
	log  *slog.Logger
	ws   *websocket.Conn
	lc   *lendingConn // ws's connection, with Options.Buffers

	wsCtx    context.Context // for the socket's reads and writes, never done
	cancel   context.CancelFunc
	readDone chan struct{} // closed when the reader has returned
	pinger   pinger
	stopStop func() bool

	// The app's side: its one goroutine at a time (run's, or poll's) owns
	// these.
	uncredited int   // payload written but not yet credited (credit)
	failed     error // the app sent a bad message
	broken     bool  // a write to the client failed

	closeSent atomic.Pointer[websocket.CloseError] // the app's close, once sent
	received  atomic.Int64                         // client messages read, for the pinger
	inSend    atomic.Bool                          // the reader waits on the app's window
}

// handshake waits for the app's answer to websocket.connect and gives it
// (all that needs w and r). It returns what follows: pumping the messages
// of an accepted connection, waiting for the app of a refused one.
func (c *conn) handshake(ctx context.Context) (then func(context.Context) error) {
	msg, err := c.s.Recv(ctx)
	if err != nil {
		return c.handshakeLost(ctx, err)
	}
	switch msgType(msg) {
	case "websocket.accept":
		return c.accept(msg)
	case "websocket.close":
		// The spec: close before accept is an HTTP 403, no handshake.
		c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		c.w.WriteHeader(http.StatusForbidden)
		io.WriteString(c.w, "403 Forbidden\n")
		return c.rejectedThen(nil)
	case "websocket.http.response.start":
		return c.deny(ctx, msg)
	}
	c.credit(PayloadLen(msg))
	err = badMessage(msg, "not allowed before the handshake is answered (websocket.accept, websocket.close or websocket.http.response.start)")
	return c.rejectedThen(c.fail(http.StatusInternalServerError, err))
}

// handshakeLost answers a handshake that the stream failed: the request's
// context is done (the client left: the app hears of it), or the app's
// coroutine ended, or the stream is lost.
func (c *conn) handshakeLost(ctx context.Context, err error) func(context.Context) error {
	if ctx.Err() != nil {
		return c.rejectedThen(nil)
	}
	return done(c.failRecv(err))
}

// accept completes the handshake with the app's subprotocol and headers.
func (c *conn) accept(msg Message) func(context.Context) error {
	sub, err := optString(msg, "subprotocol", "")
	if err == nil {
		err = setHeaders(msg, c.w.Header(), handshakeHeaders)
	}
	if err != nil {
		return c.rejectedThen(c.fail(http.StatusInternalServerError, err))
	}
	o := &websocket.AcceptOptions{InsecureSkipVerify: true}
	if sub != "" {
		// coder/websocket sends it only if the client offered it.
		o.Subprotocols = []string{sub}
	}
	if c.opts.Compression {
		o.CompressionMode = websocket.CompressionNoContextTakeover
	}
	sb := &smallBuffers{ResponseWriter: c.w, lend: c.opts.Buffers}
	ws, err := websocket.Accept(sb, c.r, o)
	if err != nil {
		// Accept answered the client (426, 400, 501 ...); the app hears of
		// it as a connection lost before it opened.
		c.log.Debug("websocket handshake failed", "path", c.path, "err", err)
		return c.rejectedThen(nil)
	}
	ws.SetReadLimit(c.opts.maxMessage())
	c.ws, c.lc = ws, sb.lc
	return c.run
}

// deny sends the app's HTTP response instead of the handshake: the denial
// response extension, websocket.http.response.start then .body messages.
// Headers are written with the first body, so an error before it is still
// a 500.
func (c *conn) deny(ctx context.Context, start Message) func(context.Context) error {
	status, err := optInt(start, "status", 0)
	if err == nil && (status < 200 || status > 999) {
		err = badMessage(start, "status %d is not a final HTTP status", status)
	}
	if err == nil {
		err = setHeaders(start, c.w.Header(), nil)
	}
	if err != nil {
		return c.rejectedThen(c.fail(http.StatusInternalServerError, err))
	}
	rc := http.NewResponseController(c.w)
	started := false
	for more := true; more; {
		msg, err := c.s.Recv(ctx)
		switch {
		case err != nil && !started:
			return c.handshakeLost(ctx, err)
		case err != nil && ctx.Err() != nil:
			c.cut(c.rejectedThen(nil), err)
		case err != nil:
			c.cut(done(err), err) // the app's coroutine ended, or the stream is lost
		}
		var body []byte
		if body, more, err = bodyArgs(msg); err != nil {
			c.credit(PayloadLen(msg))
			if !started {
				return c.rejectedThen(c.fail(http.StatusInternalServerError, err))
			}
			c.cut(c.rejectedThen(err), err) // the app is still running
		}
		if !started {
			c.w.WriteHeader(status)
			started = true
		}
		_, werr := c.w.Write(body)
		if werr == nil {
			werr = rc.Flush()
		}
		c.credit(PayloadLen(msg))
		if werr != nil {
			more = false // the client is gone: the app hears of it below
		}
	}
	return c.rejectedThen(nil)
}

// cut aborts a denial response that has started and cannot be completed (a
// truncated body must never look complete), after it has set then going.
func (c *conn) cut(then func(context.Context) error, err error) {
	c.log.Debug("websocket denial response cut", "path", c.path, "err", err)
	c.w, c.r = nil, nil
	c.finish(then)
	panic(http.ErrAbortHandler)
}

// bodyArgs returns a websocket.http.response.body message's body and
// more_body.
func bodyArgs(msg Message) (body []byte, more bool, err error) {
	if msgType(msg) != "websocket.http.response.body" {
		return nil, false, badMessage(msg, "only websocket.http.response.body may follow websocket.http.response.start")
	}
	if body, err = optBytes(msg, "body"); err != nil {
		return nil, false, err
	}
	more, err = optBool(msg, "more_body")
	return body, more, err
}

// rejectedThen returns the continuation of a handshake that did not
// complete: rejected, then err.
func (c *conn) rejectedThen(err error) func(context.Context) error {
	return func(ctx context.Context) error { return c.rejected(ctx, err) }
}

// rejected tells the app, whose handshake did not complete, that the
// connection is gone (1006: no close frame was ever exchanged), and waits for
// its coroutine to end, dropping what it still sends. It returns err, or the
// app's error if err is nil.
func (c *conn) rejected(ctx context.Context, err error) error {
	c.s.Send(ctx, Message{"type": "websocket.disconnect", "code": int(websocket.StatusAbnormalClosure), "reason": ""})
	if derr := c.drain(ctx); err == nil {
		err = derr
	}
	return err
}

// drain reads what the app sends until its coroutine ends, crediting the
// payloads so that it is never stuck on a full window.
func (c *conn) drain(ctx context.Context) error {
	for {
		msg, err := c.s.Recv(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		c.credit(PayloadLen(msg))
	}
}

// creditBatch is how many payload bytes Go lets pass before it credits
// them: a quarter of the stream's 256 KiB window, so that a Credit frame
// (a write on the channel, a frame for the worker to read) comes once per
// many small messages, and the app's send() never waits for one (it waits
// only with a whole window unacknowledged, of which at most creditBatch-1
// bytes can be Go's to credit).
const creditBatch = 64 << 10

// credit counts n more payload bytes of the app's as passed on, and
// credits them once they add up to creditBatch. The goroutine that
// receives the app's messages calls it.
func (c *conn) credit(n int) {
	c.uncredited += n
	if c.uncredited >= creditBatch {
		c.s.Consumed(c.uncredited)
		c.uncredited = 0
	}
}

// failRecv answers the handshake for a Recv error: the app's coroutine
// ended (returned or raised) or the stream is lost.
func (c *conn) failRecv(err error) error {
	var appErr *AppError
	switch {
	case err == io.EOF:
		return c.fail(http.StatusInternalServerError, ErrNoResponse)
	case errors.As(err, &appErr):
		return c.fail(http.StatusInternalServerError, err)
	}
	return c.fail(http.StatusBadGateway, err)
}

// fail answers the handshake in the app's place, through Options.Fail, and
// returns err.
func (c *conn) fail(status int, err error) error {
	if c.opts.Fail != nil {
		c.opts.Fail(c.w, c.r, status, err)
		return err
	}
	h := c.w.Header()
	for k := range h {
		delete(h, k) // the app's, from its accept or its denial response
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	c.w.WriteHeader(status)
	fmt.Fprintf(c.w, "%s %s\n", strconv.Itoa(status), http.StatusText(status))
	return err
}
