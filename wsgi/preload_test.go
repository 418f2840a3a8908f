package wsgi

import (
	"context"
	"errors"
	"fmt"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// zygoteOf returns the Container's current zygote.
func zygoteOf(t *testing.T, c *Container) *worker.Zygote {
	t.Helper()
	z := c.pool.Zygote()
	if z == nil {
		t.Fatal("no zygote")
	}
	return z
}

// parentOf reads the PPid of pid from /proc.
func parentOf(t *testing.T, pid int) int {
	t.Helper()
	ppid, err := proctest.ParentOf(pid)
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	return ppid
}

// servingPIDs calls the pid app until every worker answered, and returns
// the pids seen. Idle threads are handed out in turn, so n rounds reach
// each worker.
func servingPIDs(t *testing.T, ts *testServer, workers int) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	for range 3 * workers {
		resp, body := ts.call(t, "pid", "GET", "/", nil)
		pid, err := strconv.Atoi(body)
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("pid app: %s %q", resp.Status, body)
		}
		seen[pid] = true
	}
	return seen
}

// checkForked checks that the workers serving are the pool's, children of
// the zygote z, and that none imported the app itself.
func checkForked(t *testing.T, ts *testServer, z *worker.Zygote, workers int) {
	t.Helper()
	seen := servingPIDs(t, ts, workers)
	if len(seen) != workers {
		t.Errorf("requests served by pids %v; want %d workers", seen, workers)
	}
	for pid := range seen {
		if ppid := parentOf(t, pid); ppid != z.PID() {
			t.Errorf("worker pid %d has parent %d; want the zygote %d", pid, ppid, z.PID())
		}
	}
	for range workers {
		_, body := ts.call(t, "imported_by", "GET", "/", nil)
		var by, pid int
		if _, err := fmt.Sscan(body, &by, &pid); err != nil || by != z.PID() || pid == by {
			t.Errorf("imported_by: %q; want the app imported by the zygote %d only", body, z.PID())
		}
	}
}

func TestPreload(t *testing.T) {
	const workers = 3
	ts := startApp(t, Config{App: "pep:dispatch", Preload: true, Workers: workers, Threads: 2})
	z := zygoteOf(t, ts.c)
	checkForked(t, ts, z, workers)
	ts.logs.await(t, "zygote started")

	// A worker killed in the middle of a request: 502 naming the signal
	// (reported by the zygote, its parent), and a fork replaces it.
	resp, body := ts.call(t, "die", "GET", "/?kill", nil)
	ts.awaitFailure(t, resp, body, 502, "signal: killed")
	ts.logs.await(t, "worker exited", "exit=\"signal: killed\"", "worker started")
	checkForked(t, ts, z, workers)
	if strings.Count(ts.logs.String(), "zygote started") != 1 {
		t.Errorf("the zygote was started again:\n%s", ts.logs.String())
	}
}

// TestPreloadPEP runs core PEP 3333 behaviours on forked workers, on every
// interpreter at hand.
func TestPreloadPEP(t *testing.T) {
	for _, python := range pythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(python)))+"-"+filepath.Base(python), func(t *testing.T) {
			ts := startApp(t, Config{App: "pep:dispatch", Python: python, Preload: true})
			t.Run("hello", func(t *testing.T) { testHello(t, ts) })
			t.Run("environ", func(t *testing.T) { testEnvironKeys(t, ts) })
			t.Run("input", func(t *testing.T) { testInput(t, ts) })
			t.Run("streaming", func(t *testing.T) { testStreaming(t, ts) })
			t.Run("close", func(t *testing.T) { testClose(t, ts) })
			t.Run("errors", func(t *testing.T) { testAppErrors(t, ts) })
			t.Run("file_wrapper", func(t *testing.T) { testFileWrapper(t, ts) })
			t.Run("output", func(t *testing.T) { testOutput(t, ts) })
		})
	}
}

func TestPreloadImportError(t *testing.T) {
	logs := newLogBuffer()
	c, err := NewContainer(Config{App: "broken_import:application", Dir: "testdata/apps", Python: debianPython,
		Workers: 2, Preload: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.Start(ctx)
	var le *LoadError
	if !errors.As(err, &le) || !strings.Contains(le.Traceback, "No module named 'this_module_does_not_exist'") {
		t.Fatalf("Start: %v; want a *LoadError", err)
	}
	if c.pool.Zygote() != nil || len(c.pool.Workers()) != 0 {
		t.Error("processes left after a failed Start")
	}
	if n := strings.Count(logs.String(), "zygote started"); n != 0 {
		t.Errorf("log: %s", logs.String())
	}
	if kids := childProcesses(t); len(kids) != 0 {
		t.Errorf("child processes left: %v", kids)
	}
}

// childProcesses lists the live children of the test process.
func childProcesses(t *testing.T) []int {
	t.Helper()
	kids, err := proctest.Children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return kids
}
