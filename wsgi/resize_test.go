package wsgi

import (
	"context"
	"testing"
)

// TestSetWorkers adds and removes workers of a running Container: each
// step serves, and Stats shows the new count.
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
}
