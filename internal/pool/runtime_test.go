package pool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
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
	mk := func(name, ownerText string) string {
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
