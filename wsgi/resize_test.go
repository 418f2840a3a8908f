package wsgi

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// TestSetWorkers adds and removes workers of a running Container: each
// step serves, Stats shows the new count, and a Reload afterwards keeps it
// and says so.
func TestSetWorkers(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1})
	ctx := context.Background()
	for _, n := range []int{3, 2, 1} {
		if err := ts.c.SetWorkers(ctx, n); err != nil {
			t.Fatalf("SetWorkers(%d): %v", n, err)
		}
		if got := ts.c.NumWorkers(); got != n {
			t.Errorf("NumWorkers after SetWorkers(%d): %d", n, got)
		}
		pids := map[int]bool{}
		for _, w := range ts.c.Stats().Workers {
			pids[w.PID] = true
		}
		if len(pids) != n {
			t.Errorf("Stats after SetWorkers(%d): %d workers", n, len(pids))
		}
		for range 2 * n {
			if resp, body := ts.call(t, "hello", "GET", "/", nil); resp.StatusCode != 200 {
				t.Fatalf("after SetWorkers(%d): %s %q", n, resp.Status, body)
			}
		}
	}
	if err := ts.c.SetWorkers(ctx, 0); err == nil {
		t.Error("SetWorkers(0) succeeded")
	}
	ts.logs.await(t, "worker removed", "worker=2")
	if err := ts.c.SetWorkers(ctx, 2); err != nil {
		t.Fatalf("SetWorkers(2): %v", err)
	}
	if err := ts.c.Reload(ctx); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := ts.c.NumWorkers(); got != 2 {
		t.Errorf("NumWorkers after Reload: %d, want 2", got)
	}
	ts.logs.await(t, "msg=reloaded app=pep:dispatch workers=2")
}

// TestMultiprocessFollowsSetWorkers checks wsgi.multiprocess as the pool
// is resized, with workers spawned and forked: false with one worker, true
// in every worker (the first one too) once there are two, false again
// once SetWorkers(1) has returned.
func TestMultiprocessFollowsSetWorkers(t *testing.T) {
	for _, preload := range []bool{false, true} {
		t.Run(fmt.Sprintf("preload=%v", preload), func(t *testing.T) {
			ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, Preload: preload})
			for i, n := range []int{1, 2, 1} {
				if i > 0 {
					if err := ts.c.SetWorkers(context.Background(), n); err != nil {
						t.Fatalf("SetWorkers(%d): %v", n, err)
					}
				}
				want := n > 1
				// The idle threads are handed out in turn: 4n requests
				// reach every worker.
				pids := map[int]bool{}
				for range 4 * n {
					resp, body := ts.call(t, "whoami", "GET", "/", nil)
					var got struct {
						PID          int
						Multiprocess bool
					}
					if err := json.Unmarshal([]byte(body), &got); resp.StatusCode != 200 || err != nil {
						t.Fatalf("with %d workers: %s %q", n, resp.Status, body)
					}
					if got.Multiprocess != want {
						t.Errorf("with %d workers: worker %d says wsgi.multiprocess %v; want %v", n, got.PID, got.Multiprocess, want)
					}
					pids[got.PID] = true
				}
				if len(pids) != n {
					t.Errorf("with %d workers: %d processes served", n, len(pids))
				}
			}
		})
	}
}
