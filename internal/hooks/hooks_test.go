package hooks

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// The tests run the helper with Debian's /usr/bin/python3.
const python = "/usr/bin/python3"

// start writes a config file of src and starts a helper on it; out is
// the file its hooks write to ($OUT).
func start(t *testing.T, src string) (m *Master, out string, log *proctest.Buffer) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "gunicorn.conf.py")
	out = filepath.Join(dir, "out")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	log = new(proctest.Buffer)
	m, err := Start(context.Background(), Config{File: file, Python: python, Dir: dir,
		Env: append(os.Environ(), "OUT="+out), Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m, out, log
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

const conf = `
import os
workers = 3

def note(line):
    with open(os.environ["OUT"], "a") as f:
        f.write(line + "\n")

def on_starting(server):
    note("on_starting %s %s %s" % (server.pid == os.getppid(), server.num_workers, server.cfg.workers))

def nworkers_changed(server, new, old):
    note("nworkers_changed %s %s" % (new, old))

def child_exit(server, worker):
    note("child_exit %s %s %s %s" % (worker.pid, worker.age, worker.exit, worker.alive))

def on_exit(server):
    note("on_exit")
    raise ValueError("on_exit fails")
`

// TestRun: each hook runs with the server (its num_workers as Run sets
// it, its cfg the file's settings), the worker and the arguments given,
// in the order asked; one that raises is logged with its traceback and
// the next runs.
func TestRun(t *testing.T) {
	m, out, log := start(t, conf)
	for _, h := range []string{"on_starting", "nworkers_changed", "child_exit", "on_exit"} {
		if !m.Defined(h) {
			t.Errorf("Defined(%q) is false", h)
		}
	}
	if m.Defined("when_ready") || m.Defined("post_fork") {
		t.Errorf("Defined says true of a hook the file lacks, or of a worker hook")
	}
	ctx := context.Background()
	calls := []Call{
		{Hook: "on_starting", Server: map[string]any{"num_workers": 2}},
		{Hook: "nworkers_changed", Args: []any{3, nil}},
		{Hook: "on_exit"},
		{Hook: "child_exit", Worker: &Worker{PID: 1234, Age: 5, Exit: "signal: killed"}},
		{Hook: "when_ready"}, // not defined: nothing runs
	}
	for _, c := range calls {
		if err := m.Run(ctx, c); err != nil {
			t.Errorf("Run(%s): %v", c.Hook, err)
		}
	}
	want := "on_starting True 2 3\nnworkers_changed 3 None\non_exit\nchild_exit 1234 5 signal: killed False\n"
	if got := read(t, out); got != want {
		t.Errorf("the hooks wrote %q; want %q", got, want)
	}
	// The helper's output is logged as it comes, a traceback with its line.
	proctest.Eventually(t, 5*time.Second, "on_exit's error in the log", func() bool {
		return strings.Contains(log.String(), "ValueError: on_exit fails")
	})
	var record string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, "on_exit fails") {
			record = l
		}
	}
	for _, s := range []string{"level=ERROR", "Exception in on_exit hook", "Traceback (most recent call last)", "hooks=0"} {
		if !strings.Contains(record, s) {
			t.Errorf("the log record of on_exit's error lacks %q: %s", s, record)
		}
	}
}

// TestRunTimesOut: Run returns when ctx is done though its hook goes on;
// the next call waits for it.
func TestRunTimesOut(t *testing.T) {
	m, out, _ := start(t, `
import os, time
def on_reload(server):
    time.sleep(0.5)
    with open(os.environ["OUT"], "a") as f:
        f.write("on_reload\n")
def on_exit(server):
    with open(os.environ["OUT"], "a") as f:
        f.write("on_exit\n")
`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := m.Run(ctx, Call{Hook: "on_reload"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run of a hook longer than its context: %v; want DeadlineExceeded", err)
	}
	if err := m.Run(context.Background(), Call{Hook: "on_exit"}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, out); got != "on_reload\non_exit\n" {
		t.Errorf("the hooks wrote %q; want on_reload then on_exit", got)
	}
}

// TestHelperGone: once the helper has died, Run says so.
func TestHelperGone(t *testing.T) {
	m, _, _ := start(t, conf)
	m.proc.Kill()
	<-m.proc.Done()
	err := proctest.Poll(t, 5*time.Second, "Run failing", func() (error, bool) {
		err := m.Run(context.Background(), Call{Hook: "on_exit"})
		return err, err != nil
	})
	if !errors.Is(err, ErrGone) {
		t.Errorf("Run after the helper died: %v; want ErrGone", err)
	}
}

// TestNoMasterHooks: a file with worker hooks only needs no helper.
func TestNoMasterHooks(t *testing.T) {
	m, _, _ := start(t, "def post_fork(server, worker):\n    pass\n")
	select {
	case <-m.proc.Done():
	default:
		t.Errorf("the helper of a file without master hooks still runs")
	}
	if err := m.Run(context.Background(), Call{Hook: "on_starting"}); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestFileRaises: Start's error has the file's traceback.
func TestFileRaises(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	file := filepath.Join(t.TempDir(), "gunicorn.conf.py")
	if err := os.WriteFile(file, []byte("import no_such_module_here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Config{File: file, Python: python, Env: os.Environ(),
		Logger: slog.New(slog.NewTextHandler(new(proctest.Buffer), nil))})
	if err == nil || !strings.Contains(err.Error(), "ModuleNotFoundError") || !strings.Contains(err.Error(), file) {
		t.Errorf("Start: %v; want the file's ModuleNotFoundError", err)
	}
}
