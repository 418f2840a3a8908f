package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestASGIAppOutput: an ASGI app that writes binary junk, a 1 MiB line,
// text without a newline and bytes that look like frames to stdout and
// stderr while it serves. Its responses, a request body and a WebSocket
// meanwhile are unaffected (the channel is fd 3, never the app's output),
// and the output reaches the log, the long line in 16 KiB pieces.
func TestASGIAppOutput(t *testing.T) {
	s, addr := serveASGI(t, "app", nil, "--workers", "1")
	c := client()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ws := dialWS(t, ctx, addr)
	before := s.Count("stream=stderr")
	for i := range 3 {
		if code, body := get(t, c, addr, "/print"); code != 200 || body != "printed\n" {
			t.Errorf("/print: got %d %q", code, body)
		}
		body := bytes.Repeat([]byte{0, 0xff, '\n'}, 100_000)
		resp, err := c.Post("http://"+addr+"/upload", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("ok %d\n", len(body)); resp.StatusCode != 200 || string(b) != want {
			t.Errorf("POST between the prints: got %s %q; want %q", resp.Status, b, want)
		}
		msg := fmt.Sprintf("echo %d", i)
		if err := ws.c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := ws.c.Read(ctx); err != nil || string(got) != msg {
			t.Errorf("WebSocket between the prints: %q %v", got, err)
		}
	}
	for _, text := range []string{"junk-start", "binary", "frame-like", "junk-done", "no-newline-at-the-end"} {
		s.WaitLine(text)
	}
	if !eventually(timeout, func() bool { return s.Count("stream=stderr")-before >= 3*(1<<20)/(16<<10) }) {
		t.Errorf("%d stderr records; want the three 1 MiB lines in 16 KiB pieces", s.Count("stream=stderr")-before)
	}
	if s.Count("protocol") > 0 || s.Count("worker exited") > 0 {
		t.Errorf("the worker failed:\n%s", grepLines(s.Stderr(), "level=ERROR"))
	}
}

// TestASGILifespanShutdown: an app that raises in lifespan shutdown, one
// that never returns from it (ignoring cancellation and SIGTERM), and one
// that leaks tasks (some that refuse to be cancelled): on SIGTERM the
// server exits 0 within --graceful-timeout and a little, and the log says
// what happened. (The leaked tasks that refuse cancellation keep the
// worker alive after it has closed its channel: Go kills it a second
// later, worker.exitGrace, and says so.)
func TestASGILifespanShutdown(t *testing.T) {
	const grace = 2 * time.Second
	for _, tc := range []struct {
		app string
		log []string // in the log, in the order the lines come
	}{
		{"lifespan_raises", []string{"lifespan shutdown raising", "hostile: lifespan shutdown failed"}},
		{"lifespan_hangs", []string{"lifespan shutdown hanging", "workers did not exit within --graceful-timeout: killed"}},
		{"lifespan_leaks", []string{"lifespan shutdown leaked tasks", "worker closed its channel but did not exit: killing it"}},
	} {
		t.Run(tc.app, func(t *testing.T) {
			s, addr := serveASGI(t, tc.app, nil, "--workers", "1", "--graceful-timeout", grace.String())
			if code, body := get(t, client(), addr, "/before"); code != 200 {
				t.Fatalf("GET: %d %q", code, body)
			}
			start := time.Now()
			s.Stop()
			took := time.Since(start)
			for _, l := range tc.log {
				s.WaitLine(l)
			}
			t.Logf("stopped in %v:\n%s", took.Round(time.Millisecond), grepLines(s.Stderr(), "level=WARN"))
			if took > grace+2*time.Second {
				t.Errorf("stopped in %v; want within --graceful-timeout %v and a little", took, grace)
			}
		})
	}
}
