package asgiws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// run pumps messages both ways once the handshake is done: the client's in
// a goroutine of their own (read), the app's here, until the app's
// coroutine ends. Then the socket is closed if it is still open (1000 after
// a return, 1011 after an error) and the reader is waited for. With
// Options.Done and a Stream that is a Poller, no goroutine waits for the
// app's messages (see poll): run returns errPolling, and the end of the
// connection calls Done itself.
func (c *conn) run(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	// The socket's reads and writes get a context that is never done:
	// coder/websocket then arms no timer per read or write, and closing
	// the socket is what ends a read (close, CloseNow).
	c.wsCtx = context.Background()
	c.readDone = make(chan struct{})
	go c.reader(ctx)
	c.stopStop = func() bool { return false }
	if c.opts.Stop != nil {
		c.stopStop = context.AfterFunc(c.opts.Stop, func() {
			c.close(websocket.StatusServiceRestart, "server restart")
		})
	}
	c.startPinger(ctx)
	if p, ok := c.s.(Poller); ok && c.opts.Done != nil {
		c.poll(p)
		return errPolling
	}
	for {
		msg, err := c.s.Recv(ctx)
		if err != nil {
			return c.end(err)
		}
		c.handle(msg)
	}
}

// end ends the connection once the app's coroutine has (Recv's err: io.EOF
// if it returned) and returns run's outcome: nil if the app returned and
// sent nothing wrong, else why not.
func (c *conn) end(err error) error {
	if err == io.EOF {
		err = c.failed
	}
	c.stopPinger()
	c.stopStop()
	code := websocket.StatusNormalClosure
	if err != nil {
		code = websocket.StatusInternalError
	}
	c.close(code, "")
	c.cancel() // a reader still waiting on the stream gives up
	<-c.readDone
	c.ws.CloseNow()
	return err
}

// handle sends one of the app's messages to the client. Once the socket is
// closed, or the app sent something wrong, what the app sends is dropped,
// and credited.
func (c *conn) handle(msg Message) {
	n := PayloadLen(msg)
	if c.failed != nil || c.broken || c.closeSent.Load() != nil {
		c.credit(n)
		return
	}
	switch msgType(msg) {
	case "websocket.send":
		typ, p, err := sendPayload(msg)
		if err == nil {
			if werr := c.ws.Write(c.wsCtx, typ, p); werr != nil {
				// The connection broke: the reader sees it too and tells
				// the app (1006).
				c.log.Debug("websocket write failed", "path", c.path, "err", werr)
				c.ws.CloseNow()
				c.broken = true
			}
		}
		c.credit(n)
		if err != nil {
			c.failed = err
			c.close(websocket.StatusInternalError, "")
		}
	case "websocket.close":
		code, reason, err := closeArgs(msg)
		if err != nil {
			c.failed = err
			code, reason = websocket.StatusInternalError, ""
		}
		c.close(code, reason)
	default:
		c.failed = badMessage(msg, "not allowed once the websocket is accepted")
		c.close(websocket.StatusInternalError, "")
	}
}

// close sends a close frame, once, and waits (up to coder/websocket's 5 s)
// for the client's; the reader then tells the app.
func (c *conn) close(code websocket.StatusCode, reason string) {
	if !c.closeSent.CompareAndSwap(nil, &websocket.CloseError{Code: code, Reason: reason}) {
		return
	}
	if c.lc != nil {
		c.lc.closing.Store(true)
	}
	if err := c.ws.Close(code, reason); err != nil {
		c.log.Debug("websocket close handshake failed", "path", c.path, "err", err)
	}
}

// sendPayload returns a websocket.send message's frame type and payload:
// exactly one of "bytes" and "text" must be set.
func sendPayload(msg Message) (websocket.MessageType, []byte, error) {
	b, err := optBytes(msg, "bytes")
	if err != nil {
		return 0, nil, err
	}
	t, ok := msg["text"].(string)
	if !ok && msg["text"] != nil {
		return 0, nil, badMessage(msg, "text is a %T, not a str", msg["text"])
	}
	switch {
	case b != nil && ok:
		return 0, nil, badMessage(msg, "both bytes and text are set")
	case b != nil:
		return websocket.MessageBinary, b, nil
	case ok:
		return websocket.MessageText, []byte(t), nil
	}
	return 0, nil, badMessage(msg, "neither bytes nor text is set")
}

// closeArgs returns a websocket.close message's code (1000 if none) and
// reason, checked as a close frame needs them.
func closeArgs(msg Message) (websocket.StatusCode, string, error) {
	code, err := optInt(msg, "code", int(websocket.StatusNormalClosure))
	if err != nil {
		return 0, "", err
	}
	reason, err := optString(msg, "reason", "")
	if err != nil {
		return 0, "", err
	}
	if !validCloseCode(code) {
		return 0, "", badMessage(msg, "code %d cannot be sent in a close frame (RFC 6455 7.4)", code)
	}
	if len(reason) > 123 {
		return 0, "", badMessage(msg, "reason is %d bytes, a close frame holds 123", len(reason))
	}
	return websocket.StatusCode(code), reason, nil
}

// validCloseCode reports a code an endpoint may send: 1000-1014 but for
// the reserved 1004-1006, or 3000-4999.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1014:
		return code < 1004 || code > 1006
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// reader runs read, and again on a goroutine of its own each time read
// asks; then it closes readDone.
func (c *conn) reader(ctx context.Context) {
	if c.read(ctx) {
		go c.reader(ctx)
		return
	}
	close(c.readDone)
}

// read hands the client's messages to the app until the connection ends,
// then tells the app why with websocket.disconnect. With a lendingConn it
// waits for its first message in waitIdle, and drops the messages that
// lendingConn made up; after one it returns true, to go on on a new
// goroutine: coder/websocket's Reader grew this one's stack to 4 KiB, and
// the runtime never shrinks a stack that holds as much as waitIdle's
// frames (over a quarter of it, with its nosplit reserve), where a new
// goroutine waits in waitIdle on 2 KiB. An idle connection, whose reader
// meets a made-up message past each pong, then waits on 2 KiB.
func (c *conn) read(ctx context.Context) (again bool) {
	for first := true; ; first = false {
		typ, r, err := c.nextMessage(first)
		var buf bytes.Buffer
		if err == nil {
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.disconnect(ctx, err)
			return false
		}
		if c.lc != nil && c.lc.takeFaked() {
			return true
		}
		c.received.Add(1)
		msg := Message{"type": "websocket.receive"}
		if typ == websocket.MessageText {
			if !utf8.Valid(buf.Bytes()) {
				c.close(websocket.StatusInvalidFramePayloadData, "text message is not UTF-8")
				c.disconnect(ctx, net.ErrClosed)
				return false
			}
			msg["text"] = buf.String()
		} else {
			msg["bytes"] = buf.Bytes()
		}
		c.inSend.Store(true)
		err = c.s.Send(ctx, msg)
		c.inSend.Store(false)
		if err != nil {
			return false // the app's coroutine ended, or Serve's context did
		}
	}
}

// nextMessage is ws's Reader, after waitIdle with a lendingConn if first
// (the goroutine's first message: see lendingConn).
func (c *conn) nextMessage(first bool) (websocket.MessageType, io.Reader, error) {
	if c.lc == nil {
		return c.ws.Reader(c.wsCtx)
	}
	if first {
		c.lc.waitIdle()
	}
	c.lc.reading(true)
	defer c.lc.reading(false)
	return c.ws.Reader(c.wsCtx)
}

// disconnect sends websocket.disconnect with the close code and reason that
// ended the connection, as err tells them.
func (c *conn) disconnect(ctx context.Context, err error) {
	code, reason := websocket.StatusAbnormalClosure, ""
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		code, reason = ce.Code, ce.Reason
	case errors.Is(err, websocket.ErrMessageTooBig):
		code = websocket.StatusMessageTooBig
		c.close(code, "message too big")
	case c.closeSent.Load() != nil:
		// We closed, and coder/websocket read the client's answer itself.
		sent := c.closeSent.Load()
		code, reason = sent.Code, sent.Reason
	default:
		c.log.Debug("websocket connection lost", "path", c.path, "err", err)
	}
	c.s.Send(ctx, Message{"type": "websocket.disconnect", "code": int(code), "reason": reason})
}
