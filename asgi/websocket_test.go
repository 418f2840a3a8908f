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
	// The app closes b with its code and reason.
	b.Write(ctx, websocket.MessageText, []byte("bye"))
	_, _, err := b.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "see you" {
		t.Errorf("b's close: %v, want 4000 see you", err)
	}
	a.Close(websocket.StatusNormalClosure, "")
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
