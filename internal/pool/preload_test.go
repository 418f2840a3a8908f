package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// python is the interpreter of the tests with real workers: Debian's.
const python = "/usr/bin/python3"

// newPythonPool returns a pool of real workers serving app from testdata,
// with its log.
func newPythonPool(t *testing.T, cfg Config, app string) (*Pool, *proctest.Buffer) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	logs := new(proctest.Buffer)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	env := append(os.Environ(), "PYTHONUNBUFFERED=1")
	cfg.Worker = worker.Config{Python: python, App: app, Threads: 1, Dir: "testdata",
		Env: append(env, cfg.Worker.Env...)}
	p := New(cfg)
	t.Cleanup(func() { p.Close() })
	return p, logs
}

// pythonRequest is a request for GET /, with an empty body.
func pythonRequest() *worker.Exchange {
	ex := new(worker.Exchange)
	ex.StartRequest()
	for _, kv := range [][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}, {"SCRIPT_NAME", ""},
		{"QUERY_STRING", ""}, {"SERVER_NAME", "test"}, {"SERVER_PORT", "80"},
		{"SERVER_PROTOCOL", "HTTP/1.1"}, {"wsgi.url_scheme", "http"}} {
		ex.Add(kv[0], kv[1])
	}
	ex.AddBool("wsgi.multiprocess", true)
	ex.EndRequest(nil, "")
	return ex
}

// get runs one request on p and returns its response body.
func get(t *testing.T, p *Pool) string {
	t.Helper()
	ex := pythonRequest()
	c, err := p.Acquire(context.Background(), ex)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	for {
		ev, err := ex.Next()
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		switch ev.Kind {
		case worker.DataEvent:
			err = ex.Copy(&body, ev.Len)
		case worker.ErrorEvent:
			t.Fatalf("app error: %s", ev.Traceback)
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == worker.EndEvent {
			break
		}
	}
	ex.Finish()
	p.Release(c)
	return body.String()
}

// servedBy runs requests until every worker has answered, and returns, by
// serving pid, the pid that imported the app.
func servedBy(t *testing.T, p *Pool, workers int) map[int]int {
	t.Helper()
	seen := map[int]int{}
	for range 3 * workers {
		var by, pid int
		if _, err := fmt.Sscan(get(t, p), &by, &pid); err != nil {
			t.Fatal(err)
		}
		seen[pid] = by
	}
	return seen
}

// checkForked checks that the workers serving are children of the zygote
// z, and that the app was imported by z only.
func checkForked(t *testing.T, p *Pool, z *worker.Zygote, workers int) {
	t.Helper()
	seen := servedBy(t, p, workers)
	if len(seen) != workers {
		t.Errorf("requests served by pids %v; want %d workers", seen, workers)
	}
	for pid, by := range seen {
		if ppid := parentOf(t, pid); ppid != z.PID() {
			t.Errorf("worker pid %d has parent %d; want the zygote %d", pid, ppid, z.PID())
		}
		if by != z.PID() {
			t.Errorf("worker pid %d: app imported by %d; want the zygote %d", pid, by, z.PID())
		}
	}
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

func startCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestPreload: the pool installs the runtime, forks its workers from one
// zygote, replaces a killed worker by a fork of the same zygote, and
// removes the runtime at Stop.
func TestPreload(t *testing.T) {
	const workers = 3
	p, logs := newPythonPool(t, Config{Workers: workers, Preload: true}, "preloadapp:app")
	if err := p.Start(startCtx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := os.Stat(p.dir + "/_gowsgi/worker.py"); err != nil {
		t.Fatalf("runtime not installed: %v", err)
	}
	z := p.Zygote()
	if z == nil {
		t.Fatal("no zygote")
	}
	checkForked(t, p, z, workers)

	victim := p.Workers()[0]
	victim.Kill()
	proctest.Eventually(t, 20*time.Second, "the killed worker replaced", func() bool {
		ws := p.Workers()
		return len(ws) == workers && !containsProc(ws, victim)
	})
	if victim.Exit() != "signal: killed" {
		t.Errorf("killed worker's exit: %q; want the zygote's report", victim.Exit())
	}
	checkForked(t, p, z, workers)
	if n := strings.Count(logs.String(), "zygote started"); n != 1 {
		t.Errorf("%d zygotes started; want 1", n)
	}

	dir := p.dir
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-z.Done():
	default:
		t.Error("the zygote is still running after Stop")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime dir %s after Stop: %v; want it removed", dir, err)
	}
}

// TestPreloadReload: Reload starts a new zygote, forks the new workers
// from it, and the old zygote leaves once its workers have.
func TestPreloadReload(t *testing.T) {
	p, _ := newPythonPool(t, Config{Workers: 2, Preload: true}, "preloadapp:app")
	if err := p.Start(startCtx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	old := p.Zygote()
	ctx := startCtx(t)
	if err := p.Reload(ctx); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	z := p.Zygote()
	if z == old {
		t.Fatal("Reload kept the zygote")
	}
	checkForked(t, p, z, 2)
	select {
	case <-old.Done():
	case <-ctx.Done():
		t.Fatal("the old zygote did not leave")
	}
	if old.Exit() != "exit status 0" {
		t.Errorf("old zygote: %q", old.Exit())
	}
}

// TestPreloadImportError: a zygote that cannot import the app fails Start
// with the traceback, and leaves no process and no runtime behind.
func TestPreloadImportError(t *testing.T) {
	p, logs := newPythonPool(t, Config{Workers: 2, Preload: true}, "broken:app")
	err := p.Start(startCtx(t))
	var le *worker.LoadError
	if !errors.As(err, &le) || !strings.Contains(le.Traceback, "No module named 'this_module_does_not_exist'") {
		t.Fatalf("Start: %v; want a *worker.LoadError", err)
	}
	if p.Zygote() != nil || len(p.Workers()) != 0 || p.spawned.Load() != 0 {
		t.Errorf("zygote %v, workers %v, %d spawns after a failed Start", p.Zygote(), p.Workers(), p.spawned.Load())
	}
	if strings.Contains(logs.String(), "zygote started") {
		t.Errorf("log: %s", logs.String())
	}
	if _, err := os.Stat(p.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime dir %s after a failed Start: %v; want it removed", p.dir, err)
	}
}

func containsProc(ws []*worker.Process, p *worker.Process) bool {
	for _, w := range ws {
		if w == p {
			return true
		}
	}
	return false
}

// TestPreloadShutdown: Stop ends the zygote and its workers, whose clean
// exits the zygote reports.
func TestPreloadShutdown(t *testing.T) {
	p, _ := newPythonPool(t, Config{Workers: 2, Preload: true}, "preloadapp:app")
	if err := p.Start(startCtx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	pids := []int{p.Zygote().PID()}
	for _, w := range p.Workers() {
		pids = append(pids, w.PID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d still running after Stop", pid)
		}
	}
	for _, w := range p.Workers() {
		if w.Exit() != "exit status 0" {
			t.Errorf("%v: %q; want a clean exit reported by the zygote", w, w.Exit())
		}
	}
}

// TestZygoteDeath: with the zygote gone, the workers serve on; a worker
// that then dies is still replaced, from a new zygote.
func TestZygoteDeath(t *testing.T) {
	p, logs := newPythonPool(t, Config{Workers: 2, Preload: true}, "preloadapp:app")
	if err := p.Start(startCtx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	z := p.Zygote()
	before := servedBy(t, p, 2)
	syscall.Kill(z.PID(), syscall.SIGKILL)
	<-z.Done()
	awaitLog(t, logs, "zygote exited", "signal: killed")
	if now := servedBy(t, p, 2); fmt.Sprint(now) != fmt.Sprint(before) {
		t.Errorf("workers before the zygote died %v, after %v", before, now)
	}
	victim := p.Workers()[0]
	victim.Kill()
	awaitLog(t, logs, "starting a new zygote", "worker started")
	z2 := p.Zygote()
	if z2 == z {
		t.Fatal("no new zygote")
	}
	seen := servedBy(t, p, 2)
	if len(seen) != 2 {
		t.Fatalf("served by %v", seen)
	}
	forked := 0
	for pid := range seen {
		if parentOf(t, pid) == z2.PID() {
			forked++
		}
	}
	if forked != 1 {
		t.Errorf("%d workers forked from the new zygote %d; want the replacement", forked, z2.PID())
	}
}

// alive reports whether pid is a running process (not gone, not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

// awaitLog waits until the log holds every one of subs.
func awaitLog(t *testing.T, logs *proctest.Buffer, subs ...string) {
	t.Helper()
	proctest.Poll(t, 20*time.Second, fmt.Sprintf("the log to say %q", subs), func() (string, bool) {
		log := logs.String()
		for _, s := range subs {
			if !strings.Contains(log, s) {
				return fmt.Sprintf("log never said %q; it says:\n%s", s, log), false
			}
		}
		return "", true
	})
}
