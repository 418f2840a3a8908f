package asgi

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestStreamsSpread: a new request goes to the worker with the fewest open
// streams; past MaxStreams on every worker it waits, in Stats, until one
// ends; SetWorkers adds a worker that takes the next.
func TestStreamsSpread(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.Workers = 2; c.MaxStreams = 1 })
	// Each held request streams until its client leaves.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hold := func(name string) {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", ts.srv.URL+"/watch?"+name, nil)
			if resp, err := ts.srv.Client().Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	open := func() []int {
		var n []int
		for _, w := range ts.c.Stats().Workers {
			n = append(n, len(w.Requests))
		}
		return n
	}
	hold("a")
	hold("b")
	proctest.Poll(t, 10*time.Second, "one stream on each worker", func() ([]int, bool) {
		n := open()
		return n, len(n) == 2 && n[0] == 1 && n[1] == 1
	})
	hold("c")
	proctest.Poll(t, 10*time.Second, "a third request waiting", func() (int, bool) {
		w := ts.c.Stats().Waiting
		return w, w == 1
	})
	for _, w := range ts.c.Stats().Workers {
		if w.Requests[0].What != "GET /watch" {
			t.Errorf("worker %d's stream: %q", w.ID, w.Requests[0].What)
		}
	}
	// A third worker takes the waiting request.
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := ts.c.SetWorkers(sctx, 3); err != nil {
		t.Fatal(err)
	}
	proctest.Poll(t, 10*time.Second, "one stream on each of 3 workers", func() ([]int, bool) {
		n := open()
		return n, len(n) == 3 && n[0] == 1 && n[1] == 1 && n[2] == 1
	})
	if ts.c.NumWorkers() != 3 || ts.c.Stats().Waiting != 0 {
		t.Errorf("NumWorkers %d, waiting %d; want 3, 0", ts.c.NumWorkers(), ts.c.Stats().Waiting)
	}
	// The clients leave: each app hears http.disconnect and ends.
	cancel()
	proctest.Poll(t, 10*time.Second, "no stream open", func() ([]int, bool) {
		n := open()
		return n, n[0]+n[1]+n[2] == 0
	})
}
