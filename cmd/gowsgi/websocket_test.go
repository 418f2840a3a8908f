package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/coder/websocket"
	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestServeWebSocket: a WebSocket through gowsgi serve's whole handler
// chain (access log included) to a plain ASGI echo (asgi's testdata), then
// SIGTERM with the socket open: the client gets 1012 "server restart" and
// the server exits 0 without waiting out --graceful-timeout.
func TestServeWebSocket(t *testing.T) {
	needPython(t)
	logs := t.TempDir()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython,
		"--chdir", "../../asgi/testdata", "-w", "1", "--graceful-timeout", "60",
		"--access-log", "common", "--access-logfile", filepath.Join(logs, "access.log"), "wsecho:app")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+c.Addr()+"/ws", &websocket.DialOptions{Subprotocols: []string{"chat.v2"}})
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, c.Tail(20))
	}
	defer ws.CloseNow()
	if ws.Subprotocol() != "chat.v2" {
		t.Errorf("subprotocol %q, want chat.v2", ws.Subprotocol())
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("héllo")); err != nil {
		t.Fatal(err)
	}
	if typ, b, err := ws.Read(ctx); err != nil || typ != websocket.MessageText || string(b) != "héllo" {
		t.Fatalf("echo: %v %q %v", typ, b, err)
	}
	proctest.Eventually(t, timeout, "the handshake's access log line", func() bool {
		b, _ := os.ReadFile(filepath.Join(logs, "access.log"))
		return strings.Contains(string(b), `"GET /ws HTTP/1.1" 101`)
	})
	c.Signal(syscall.SIGTERM)
	_, _, err = ws.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusServiceRestart {
		t.Errorf("after SIGTERM the client read %v, want a close 1012", err)
	}
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d after SIGTERM; want 0\n%s", status, c.Tail(20))
	}
}
