package asgi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/wsgi"
)

// TestNoLifespan: an app that raises on the lifespan scope still serves.
func TestNoLifespan(t *testing.T) {
	ts := start(t, "spec:no_lifespan", nil)
	if _, body := ts.get(t, "/"); body != "no lifespan here" {
		t.Errorf("body %q", body)
	}
	if info := ts.c.Info(); info.Lifespan != "unsupported" {
		t.Errorf("Info().Lifespan = %q, want unsupported", info.Lifespan)
	}
}

// TestStartupFailed: lifespan.startup.failed is a load error, as an app
// that does not import.
func TestStartupFailed(t *testing.T) {
	needPython(t)
	c, err := NewContainer(Config{Config: wsgi.Config{App: "spec:failing_startup", Python: python, Dir: "testdata",
		Workers: 1, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	var le *wsgi.LoadError
	if !errors.As(err, &le) || !strings.Contains(le.Traceback, "no database") {
		t.Fatalf("Start: %v, want a *wsgi.LoadError with the startup.failed message", err)
	}
	if n := len(c.pool.Workers()); n != 0 {
		t.Errorf("%d workers left running", n)
	}
}

// TestNotASGI: Threads is the WSGI container's.
func TestConfigRefused(t *testing.T) {
	for _, cfg := range []Config{
		{Config: wsgi.Config{App: "spec:app", Threads: 4}},
		{Config: wsgi.Config{App: "spec:app"}, MaxStreams: -1},
		{Config: wsgi.Config{App: ""}},
	} {
		if _, err := NewContainer(cfg); err == nil {
			t.Errorf("NewContainer(%+v): no error", cfg)
		}
	}
}

// TestStuckLoop: blocking code on the event loop past Timeout: the stacks
// go to the log, the worker is killed and replaced, the request gets 504.
func TestStuckLoop(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.Timeout = 500 * time.Millisecond })
	pid := ts.c.pool.Workers()[0].PID()
	if resp, _ := ts.get(t, "/block?30"); resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("/block: status %d, want 504", resp.StatusCode)
	}
	ts.awaitLog(t, "event loop sent nothing")
	ts.awaitLog(t, "spec.py\\\", line") // faulthandler's dump names the app's frame
	proctest.Eventually(t, 20*time.Second, "a new worker", func() bool {
		ws := ts.c.pool.Workers()
		return len(ws) == 1 && ws[0].PID() != pid && ws[0].State().String() == "ready"
	})
	if _, body := ts.get(t, "/stream"); !strings.HasPrefix(body, "chunk 0") {
		t.Errorf("after the replacement: %q", body)
	}
}

// TestGracefulShutdown: Shutdown lets a request in flight finish (its
// stream still gets Credit and its answer), refusing new ones, and the
// worker runs lifespan shutdown and exits.
func TestGracefulShutdown(t *testing.T) {
	ts := start(t, "spec:app", nil)
	got := make(chan string, 1)
	go func() {
		resp, err := ts.srv.Client().Get(ts.srv.URL + "/sleep?1")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := readAll(resp)
		got <- b
	}()
	w := ts.c.pool.Workers()[0]
	proctest.Eventually(t, 10*time.Second, "a stream open", func() bool { return w.Mux.Len() == 1 })
	stopped := make(chan error, 1)
	go func() { stopped <- ts.c.Shutdown(context.Background()) }()
	proctest.Eventually(t, 10*time.Second, "new requests refused", func() bool { return !ts.c.gate.Running() })
	if resp, _ := ts.get(t, "/stream"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a request during Shutdown: %d, want 503", resp.StatusCode)
	}
	if body := <-got; body != "slept" {
		t.Errorf("the request in flight got %q", body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-w.Done()
	if w.Exit() != "exit status 0" {
		t.Errorf("worker ended with %q, want exit status 0", w.Exit())
	}
}

// TestIdleLoopSurvives: an app that awaits past Timeout gets its request
// a 504, but its worker's loop, idle and not stuck, answers Go's ping and
// is kept (with its other streams and lifespan state).
func TestIdleLoopSurvives(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.Timeout = time.Second })
	w := ts.c.pool.Workers()[0]
	if resp, _ := ts.get(t, "/sleep?3"); resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("/sleep past Timeout: %d, want 504", resp.StatusCode)
	}
	// The app ends its sleep on its own; the worker must still be there.
	proctest.Eventually(t, 10*time.Second, "the sleeping stream to end", func() bool { return w.Mux.Len() == 0 })
	if w.State().String() != "ready" || strings.Contains(ts.logs.String(), "event loop sent nothing") {
		t.Errorf("the idle worker was taken for stuck: state %v\nlog:\n%s", w.State(), ts.logs)
	}
}
