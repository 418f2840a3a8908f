package proctest

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

// TestChildren: a child started here is listed among this process's
// children, and its parent is this process; once waited for, it is not.
func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kids, err := Children(os.Getpid())
	if err != nil || !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("Children = %v, %v; want %d among them", kids, err, cmd.Process.Pid)
	}
	if ppid, err := ParentOf(cmd.Process.Pid); err != nil || ppid != os.Getpid() {
		t.Errorf("ParentOf(child) = %d, %v; want %d", ppid, err, os.Getpid())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if kids, _ := Children(os.Getpid()); slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("Children = %v after the child was reaped", kids)
	}
}
