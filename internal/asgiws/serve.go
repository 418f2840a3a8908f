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
// Options.Fail; after it, the socket is closed with 1011.
//
// The caller routes to Serve only requests with "Upgrade: websocket"; an
// invalid handshake gets the 4xx that coder/websocket answers, and the app a
// websocket.disconnect. Origin is not checked: it is in the scope's headers,
// for the app to judge, as with other ASGI servers. If the app cuts a denial
// response short, Serve panics with http.ErrAbortHandler, as a handler does
// to abort a response. Serve's context is r's: after the handshake net/http
// no longer cancels it when the client goes or the server shuts down, so
// the caller cancels it when it stops.
func Serve(w http.ResponseWriter, r *http.Request, s Stream, opts Options) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &conn{w: w, r: r, s: s, opts: opts, log: opts.logger()}
	if err := s.Send(ctx, Message{"type": "websocket.connect"}); err != nil {
		return c.fail(http.StatusBadGateway, err)
	}
	ws, err := c.handshake(ctx)
	if ws == nil {
		return err
	}
	c.ws = ws
	return c.run(ctx, cancel)
}

// conn is one connection's state, shared by the goroutine that serves the
// app's messages (Serve's own) and the one that reads the client's.
type conn struct {
	w    http.ResponseWriter
	r    *http.Request
	s    Stream
	opts Options
	log  *slog.Logger
	ws   *websocket.Conn

	closeSent atomic.Pointer[websocket.CloseError] // the app's close, once sent
	received  atomic.Int64                         // client messages read, for the pinger
	inSend    atomic.Bool                          // the reader waits on the app's window
}

// handshake waits for the app's answer to websocket.connect and gives it:
// the accepted connection, or nil and why not once the app's coroutine has
// ended.
func (c *conn) handshake(ctx context.Context) (*websocket.Conn, error) {
	msg, err := c.s.Recv(ctx)
	if err != nil {
		return nil, c.failRecv(err)
	}
	switch msgType(msg) {
	case "websocket.accept":
		return c.accept(ctx, msg)
	case "websocket.close":
		// The spec: close before accept is an HTTP 403, no handshake.
		c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		c.w.WriteHeader(http.StatusForbidden)
		io.WriteString(c.w, "403 Forbidden\n")
		return nil, c.rejected(ctx, nil)
	case "websocket.http.response.start":
		return nil, c.deny(ctx, msg)
	}
	c.s.Consumed(PayloadLen(msg))
	err = badMessage(msg, "not allowed before the handshake is answered (websocket.accept, websocket.close or websocket.http.response.start)")
	return nil, c.rejected(ctx, c.fail(http.StatusInternalServerError, err))
}

// accept completes the handshake with the app's subprotocol and headers.
func (c *conn) accept(ctx context.Context, msg Message) (*websocket.Conn, error) {
	sub, err := optString(msg, "subprotocol", "")
	if err == nil {
		err = setHeaders(msg, c.w.Header(), acceptForbidden)
	}
	if err != nil {
		return nil, c.rejected(ctx, c.fail(http.StatusInternalServerError, err))
	}
	o := &websocket.AcceptOptions{InsecureSkipVerify: true}
	if sub != "" {
		// coder/websocket sends it only if the client offered it.
		o.Subprotocols = []string{sub}
	}
	if c.opts.Compression {
		o.CompressionMode = websocket.CompressionNoContextTakeover
	}
	ws, err := websocket.Accept(c.w, c.r, o)
	if err != nil {
		// Accept answered the client (426, 400, 501 ...); the app hears of
		// it as a connection lost before it opened.
		c.log.Debug("websocket handshake failed", "path", c.r.URL.Path, "err", err)
		return nil, c.rejected(ctx, nil)
	}
	ws.SetReadLimit(c.opts.maxMessage())
	return ws, nil
}

// deny sends the app's HTTP response instead of the handshake: the denial
// response extension, websocket.http.response.start then .body messages.
// Headers are written with the first body, so an error before it is still
// a 500.
func (c *conn) deny(ctx context.Context, start Message) error {
	status, err := optInt(start, "status", 0)
	if err == nil && (status < 200 || status > 999) {
		err = badMessage(start, "status %d is not a final HTTP status", status)
	}
	if err == nil {
		err = setHeaders(start, c.w.Header(), denialForbidden)
	}
	if err != nil {
		return c.rejected(ctx, c.fail(http.StatusInternalServerError, err))
	}
	rc := http.NewResponseController(c.w)
	started := false
	for more := true; more; {
		msg, err := c.s.Recv(ctx)
		var body []byte
		if err == nil {
			body, more, err = bodyArgs(msg)
			if err != nil {
				c.s.Consumed(PayloadLen(msg))
				err = c.rejected(ctx, err) // the app is still running
			}
		}
		switch {
		case err != nil && started:
			// A truncated body must never look complete.
			c.log.Debug("websocket denial response cut", "path", c.r.URL.Path, "err", err)
			panic(http.ErrAbortHandler)
		case errors.Is(err, ErrBadMessage):
			return c.fail(http.StatusInternalServerError, err)
		case err != nil:
			return c.failRecv(err)
		}
		if !started {
			c.w.WriteHeader(status)
			started = true
		}
		_, werr := c.w.Write(body)
		if werr == nil {
			werr = rc.Flush()
		}
		c.s.Consumed(PayloadLen(msg))
		if werr != nil {
			more = false // the client is gone: the app hears of it below
		}
	}
	return c.rejected(ctx, nil)
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
		c.s.Consumed(PayloadLen(msg))
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
