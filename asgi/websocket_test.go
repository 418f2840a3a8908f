package asgi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSocketChat: a Starlette chat between two clients through the
// container: subprotocol, text to both, binary, the app's close code.
func TestWebSocketChat(t *testing.T) {
	needPython(t, "starlette")
	ts := start(t, "wschat:app", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/chat"
	dial := func(want string) *websocket.Conn {
		t.Helper()
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			t.Fatalf("dial: %v\nlog:\n%s", err, ts.logs)
		}
		if c.Subprotocol() != "chat" || resp.StatusCode != 101 {
			t.Errorf("subprotocol %q, status %d", c.Subprotocol(), resp.StatusCode)
		}
		expect(t, ctx, c, websocket.MessageText, want)
		return c
	}
	a := dial("joined 1")
	b := dial("joined 2")
	if err := a.Write(ctx, websocket.MessageText, []byte("héllo from a")); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, a, websocket.MessageText, "héllo from a")
	expect(t, ctx, b, websocket.MessageText, "héllo from a")
	if err := b.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, a, websocket.MessageBinary, "\x03\x02\x01")
	expect(t, ctx, b, websocket.MessageBinary, "\x03\x02\x01")
	// A big message, past the stream's window.
	big := strings.Repeat("é", 300000)
	if err := a.Write(ctx, websocket.MessageText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, b, websocket.MessageText, big)
	expect(t, ctx, a, websocket.MessageText, big)
	// Past what a message may carry: 1009, not a broken stream.
	if err := a.Write(ctx, websocket.MessageBinary, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("a 1 MiB message: %v, want close 1009", err)
	}
	// The app closes b with its code and reason.
	b.Write(ctx, websocket.MessageText, []byte("bye"))
	_, _, err := b.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "see you" {
		t.Errorf("b's close: %v, want 4000 see you", err)
	}
}

func expect(t *testing.T, ctx context.Context, c *websocket.Conn, typ websocket.MessageType, want string) {
	t.Helper()
	c.SetReadLimit(4 << 20)
	got, b, err := c.Read(ctx)
	if err != nil || got != typ || string(b) != want {
		if len(b) > 40 {
			b = b[:40]
		}
		t.Fatalf("read %v %q %v, want %v %.40q", got, b, err, typ, want)
	}
}

// TestWebSocketShutdown: a graceful Shutdown closes an idle WebSocket with
// 1012 at once (the app hears websocket.disconnect and ends) instead of
// waiting for it through the grace, and the worker exits 0.
func TestWebSocketShutdown(t *testing.T) {
	needPython(t, "starlette")
	ts := start(t, "wschat:app", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.srv.URL, "http")+"/chat", nil)
	if err != nil {
		t.Fatalf("dial: %v\nlog:\n%s", err, ts.logs)
	}
	defer c.CloseNow()
	expect(t, ctx, c, websocket.MessageText, "joined 1")
	w := ts.c.pool.Workers()[0]
	stopped := make(chan error, 1)
	go func() { stopped <- ts.c.Shutdown(ctx) }()
	_, _, err = c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusServiceRestart || ce.Reason != "server restart" {
		t.Errorf("the client read %v, want a close 1012 server restart", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v (the WebSocket held it?)\nlog:\n%s", err, ts.logs)
	}
	<-w.Done()
	if w.Exit() != "exit status 0" {
		t.Errorf("worker ended with %q, want exit status 0", w.Exit())
	}
}
