package pool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestStaleRuntimeRemoved: Start removes the runtime directories a killed
// server left (owner gone), and only those: not one whose owner runs, nor
// one without an owner file; its own names this process.
func TestStaleRuntimeRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name, ownerText string) string { return mkRuntime(t, tmp, name, ownerText) }
	stale := mk("dead", strconv.Itoa(dead.Process.Pid)+" 1\n")
	// A live pid with another start time: the pid was reused.
	reused := mk("reused", strconv.Itoa(os.Getpid())+" 1\n")
	live := mk("live", owner(os.Getpid()))
	unowned := mk("unowned", "")

	p, _ := newPool(t, 1, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{stale, reused} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v; want it removed, its owner gone", dir, err)
		}
	}
	for _, dir := range []string{live, unowned} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v; want it kept", dir, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(p.dir, ownerFile))
	if err != nil || string(b) != owner(os.Getpid()) {
		t.Errorf("the pool's own owner file: %q, %v; want %q", b, err, owner(os.Getpid()))
	}
}

// TestUnownedRuntimeRemoved: a runtime directory without a usable owner
// file (a gowsgi before owner files, a lost or garbled one) is removed
// once it is a day old and no process uses it; never while a process has
// its working directory there, names it on its command line (as workers
// do) or holds a file in it open, nor while it is young.
func TestUnownedRuntimeRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	old := time.Now().Add(-2 * unownedAge)
	mk := func(name, ownerText string) string { return mkRuntime(t, tmp, name, ownerText) }
	// A process that waits on its stdin, in dir or naming it.
	user := func(dir string, inDir bool) {
		cmd := exec.Command("sh", "-c", "read x", "sh", dir)
		if inDir {
			cmd = exec.Command("sh", "-c", "read x")
			cmd.Dir = dir
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	}
	unowned, garbled := mk("unowned", ""), mk("garbled", "not a pid\n")
	young := mk("young", "")
	cwd, argv, open := mk("cwd", ""), mk("argv", ""), mk("open", "")
	user(cwd, true)
	user(argv, false)
	f, err := os.Create(filepath.Join(open, "_gowsgi", "held.py"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, dir := range []string{unowned, garbled, cwd, argv, open} {
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}

	p, _ := newPool(t, 1, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{unowned, garbled} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v; want it removed, old and unused", dir, err)
		}
	}
	for _, dir := range []string{young, cwd, argv, open} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v; want it kept", dir, err)
		}
	}
}

// mkRuntime makes a runtime directory name in tmp, with an owner file of
// ownerText unless it is empty.
func mkRuntime(t *testing.T, tmp, name, ownerText string) string {
	t.Helper()
	dir := filepath.Join(tmp, runtimePrefix+name)
	if err := os.MkdirAll(filepath.Join(dir, "_gowsgi"), 0o755); err != nil {
		t.Fatal(err)
	}
	if ownerText != "" {
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(ownerText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
