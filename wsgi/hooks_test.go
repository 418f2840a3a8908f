package wsgi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestHooksPath: Config.Hooks is made absolute (the workers run in
// Config.Dir), "python:MODULE" kept, and a missing file is an error that
// names the field.
func TestHooksPath(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "gunicorn.conf.py")
	writeFile(t, file, "workers = 2\n")
	t.Chdir(dir)
	cases := []struct {
		hooks, want, err string
	}{
		{"", "", ""},
		{"gunicorn.conf.py", file, ""},
		{file, file, ""},
		{"python:myconf", "python:myconf", ""},
		{"nope.py", "", `Config.Hooks "nope.py"`},
	}
	for _, tc := range cases {
		c, err := NewContainer(Config{App: "pep:hello", Python: debianPython, Hooks: tc.hooks})
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Hooks %q: error %v; want one with %q", tc.hooks, err, tc.err)
			}
		case err != nil:
			t.Errorf("Hooks %q: %v", tc.hooks, err)
		case c.cfg.Hooks != tc.want:
			t.Errorf("Hooks %q became %q; want %q", tc.hooks, c.cfg.Hooks, tc.want)
		}
	}
}

// TestHooksLoadError: a config file that raises in the worker (or the
// zygote) is a *LoadError with its traceback, as an app that does not
// import: restarting would fail the same way.
func TestHooksLoadError(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Skip(err)
	}
	file := filepath.Join(t.TempDir(), "gunicorn.conf.py")
	writeFile(t, file, "workers = 2\n1 / 0\n")
	for _, preload := range []bool{false, true} {
		c, err := NewContainer(Config{App: "pep:hello", Python: debianPython, Dir: "testdata/apps",
			Workers: 1, Hooks: file, Preload: preload, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = c.Start(ctx)
		cancel()
		var le *LoadError
		if !errors.As(err, &le) || !strings.Contains(le.Traceback, "the config file "+file) || !strings.Contains(le.Traceback, "ZeroDivisionError") {
			t.Errorf("preload %v: Start: %v; want a *LoadError with the file's traceback", preload, err)
		}
		c.Close()
	}
}

// TestWorkerExited: Config.WorkerExited hears of each worker's end, with
// its pid, age and exit, a killed one as it happens, the others before
// Shutdown returns.
func TestWorkerExited(t *testing.T) {
	var mu sync.Mutex
	var exits []WorkerExit
	ts := startApp(t, Config{App: "pep:hello", Workers: 2, WorkerExited: func(w WorkerExit) {
		mu.Lock()
		exits = append(exits, w)
		mu.Unlock()
	}})
	victim := ts.c.pool.Workers()[0]
	victim.Kill()
	<-victim.Done()
	mu.Lock()
	got := append([]WorkerExit(nil), exits...)
	mu.Unlock()
	if len(got) != 1 || got[0].PID != victim.PID() || got[0].ID != victim.ID || got[0].Age != victim.Age || got[0].Exit != "signal: killed" {
		t.Fatalf("WorkerExited heard %+v once Done was closed; want worker %d (pid %d, age %d) killed",
			got, victim.ID, victim.PID(), victim.Age)
	}
	if victim.Age < 1 || victim.Age > 2 {
		t.Errorf("a first worker's age is %d; want 1 or 2", victim.Age)
	}
	if err := syscall.Kill(victim.PID(), 0); err == nil {
		t.Errorf("pid %d still runs", victim.PID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The other first worker and the victim's replacement (age 3), or
	// the replacement alone if it was not ready yet.
	if n := len(exits); n < 2 || n > 3 {
		t.Errorf("WorkerExited heard %d exits by Shutdown's end: %+v; want 2 or 3", n, exits)
	}
}
