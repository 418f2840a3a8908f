package pool

import (
	"context"
	"errors"
	"fmt"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// TestReloadTimeout: a Reload whose new version's import hangs gives up
// after Config.ReloadTimeout, kills the new workers (or zygote), and
// leaves the old ones serving; a later Reload works.
func TestReloadTimeout(t *testing.T) {
	for _, preload := range []bool{false, true} {
		t.Run(fmt.Sprintf("preload=%v", preload), func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "hang")
			cfg := Config{Workers: 2, Preload: preload, ReloadTimeout: 2 * time.Second,
				Worker: worker.Config{Env: []string{"HANG_MARKER=" + marker}}}
			p, logs := newPythonPool(t, cfg, "hangapp:app")
			if err := p.Start(startCtx(t)); err != nil {
				t.Fatalf("Start: %v", err)
			}
			before := pids(p)
			if err := os.WriteFile(marker, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			err := p.Reload(context.Background())
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "ReloadTimeout") {
				t.Fatalf("Reload of a hanging import: %v; want the reload timeout", err)
			}
			if d := time.Since(began); d > 20*time.Second {
				t.Errorf("Reload returned after %v; want about its 2s timeout", d)
			}
			if !strings.Contains(logs.String(), "reload timed out") {
				t.Errorf("log does not say the reload timed out:\n%s", logs.String())
			}
			if now := pids(p); now != before {
				t.Errorf("workers %s after the failed reload; want the old ones, %s", now, before)
			}
			servedBy(t, p, 2)
			// The hung processes are gone: only the old workers (and
			// zygote) are children of this process, or of the zygote.
			want := 2
			if preload {
				want = 1 // the zygote; the workers are its children
			}
			proctest.Poll(t, 20*time.Second, fmt.Sprintf("%d children of this process", want), func() (int, bool) {
				n := len(children(t, os.Getpid()))
				return n, n == want
			})

			os.Remove(marker)
			if err := p.Reload(startCtx(t)); err != nil {
				t.Fatalf("Reload after the import is fixed: %v", err)
			}
			if now := pids(p); now == before {
				t.Errorf("workers %s after a reload: still the old ones", now)
			}
			servedBy(t, p, 2)
		})
	}
}

// pids lists the pool's worker pids, in id order.
func pids(p *Pool) string {
	var s []string
	for _, w := range p.Workers() {
		s = append(s, strconv.Itoa(w.PID()))
	}
	return strings.Join(s, " ")
}

// children lists the live child processes of pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	kids, err := proctest.Children(pid)
	if err != nil {
		t.Fatal(err)
	}
	return kids
}
