package main

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestStaleRuntimeAfterKill: a server killed with SIGKILL leaves its
// Python runtime directory; the next server to start removes it.
func TestStaleRuntimeAfterKill(t *testing.T) {
	needPython(t)
	tmp := t.TempDir()
	runtimes := func() []string {
		dirs, err := filepath.Glob(filepath.Join(tmp, "gowsgi-runtime-*"))
		if err != nil {
			t.Fatal(err)
		}
		return dirs
	}
	args := []string{"serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1", "ops:rid"}
	first := startCLI(t, []string{"TMPDIR=" + tmp}, args...)
	first.WaitLine("serving WSGI app")
	left := runtimes()
	if len(left) != 1 {
		t.Fatalf("runtime dirs while serving: %v; want 1", left)
	}
	first.Signal(syscall.SIGKILL)
	first.Wait()
	if dirs := runtimes(); len(dirs) != 1 {
		t.Fatalf("runtime dirs after SIGKILL: %v; want the one left", dirs)
	}

	second := startCLI(t, []string{"TMPDIR=" + tmp}, args...)
	second.WaitLine("removed the Python runtime of a server that has gone")
	second.WaitLine("serving WSGI app")
	dirs := runtimes()
	if len(dirs) != 1 || dirs[0] == left[0] {
		t.Errorf("runtime dirs after the next start: %v; want only its own, not %s", dirs, left[0])
	}
	second.Stop()
	if dirs := runtimes(); len(dirs) != 0 {
		t.Errorf("runtime dirs after SIGTERM: %v; want none", dirs)
	}
}
