package pool

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// TestCPUAffinity: with CPUAffinity 1, every thread of worker i runs on
// the i-th CPU the test may use (around again past the last), the
// threads that serve requests included, forked from a zygote or not.
func TestCPUAffinity(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU affinity is Linux's")
	}
	allowed, err := worker.AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) < 2 {
		t.Skipf("one CPU (%v): pinned or not, every thread runs on it", allowed)
	}
	for _, preload := range []bool{false, true} {
		t.Run("preload="+strconv.FormatBool(preload), func(t *testing.T) {
			cfg := Config{Workers: 3, Preload: preload, CPUAffinity: 1}
			p, logs := newPythonPool(t, cfg, "preloadapp:app")
			p.cfg.Worker.Threads = 4
			if err := p.Start(t.Context()); err != nil {
				t.Fatalf("%v\n%s", err, logs)
			}
			for range 8 {
				get(t, p)
			}
			for _, proc := range p.Workers() {
				want := strconv.Itoa(allowed[proc.ID%len(allowed)])
				// main thread, 4 serving threads
				tids := awaitThreads(t, proc.PID(), 5)
				for _, tid := range tids {
					if got := cpusAllowed(t, proc.PID(), tid); got != want {
						t.Errorf("worker %d thread %s runs on CPUs %q, want %q", proc.ID, tid, got, want)
					}
				}
			}
		})
	}
}

// awaitThreads returns the threads of process pid once it has at least n.
func awaitThreads(t *testing.T, pid, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) >= n || time.Now().After(deadline) {
			tids := make([]string, len(entries))
			for i, e := range entries {
				tids[i] = e.Name()
			}
			if len(tids) < n {
				t.Fatalf("process %d has %d threads after 10 s, want %d", pid, len(tids), n)
			}
			return tids
		}
		runtime.Gosched()
	}
}

// cpusAllowed is the Cpus_allowed_list of a thread ("0", "0-1").
func cpusAllowed(t *testing.T, pid int, tid string) string {
	t.Helper()
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", tid, "status"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in the status of thread %s", tid)
	return ""
}
