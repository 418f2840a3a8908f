package pyruntime_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/internal/pyruntime"
)

// TestASGIPreload: a zygote started with the interface "asgi" imports the
// app and forks an ASGI worker, as internal/worker's Zygote does (Fork with
// the channel and output pipes as SCM_RIGHTS); the child makes its own
// loop and runs lifespan startup itself (the state has the child's pid),
// says Ready, serves, runs shutdown on EOF and exits 0, which the zygote
// reports as Reaped.
func TestASGIPreload(t *testing.T) {
	ctl, theirs := newWire(t)
	cmd := exec.Command(testPython, "-c", pyruntime.ZygoteBootstrap, installRuntime(t),
		"asgilifespan:app", testdata(t), strconv.Itoa(frame.MaxMeta), "", "asgi")
	cmd.Dir = testdata(t)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	zygote := proctest.Start(t, cmd)
	theirs.Close()
	ctl.ready()

	w, channel := newWire(t)
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr proctest.Buffer
	go io.Copy(io.Discard, outR)
	go io.Copy(&stderr, errR)
	t.Cleanup(func() { outR.Close(); errR.Close() })
	fork := frame.AppendHeader(nil, frame.Fork, 0)
	rights := syscall.UnixRights(int(channel.Fd()), int(outW.Fd()), int(errW.Fd()))
	if _, _, err := ctl.nc.WriteMsgUnix(fork, rights, nil); err != nil {
		t.Fatal(err)
	}
	channel.Close()
	outW.Close()
	errW.Close()
	forked := ctl.recv()
	pid, ok := forked.val.(int64)
	if forked.typ != frame.Forked || !ok {
		t.Fatalf("%v %v, want Forked with a pid", forked.typ, forked.val)
	}
	t.Cleanup(func() { syscall.Kill(int(pid), syscall.SIGKILL) })

	info := w.ready()
	loop := "asyncio"
	if exec.Command(testPython, "-c", "import uvloop").Run() == nil {
		loop = "uvloop"
	}
	for k, want := range map[string]any{"interface": "asgi", "loop": loop, "lifespan": "on", "pid": pid} {
		if info[k] != want {
			t.Errorf("the child's Ready info %q = %v, want %v", k, info[k], want)
		}
	}
	r := w.get(1, "/", "")
	var state map[string]any
	if err := json.Unmarshal(r.body, &state); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	if state["pid"] != float64(pid) || int(pid) == zygote.Pid() {
		t.Errorf("lifespan ran in pid %v; want the child's, %d (the zygote is %d)", state["pid"], pid, zygote.Pid())
	}

	w.closeWrite()
	w.eof()
	proctest.Eventually(t, proctest.Timeout, "the child's lifespan shutdown", func() bool {
		return strings.Contains(stderr.String(), "lifespan shutdown in "+strconv.Itoa(int(pid)))
	})
	reaped := ctl.recv()
	if want := (marshal.Tuple{pid, int64(0)}); reaped.typ != frame.Reaped || !reflect.DeepEqual(reaped.val, want) {
		t.Errorf("%v %v, want Reaped %v (exit status 0)", reaped.typ, reaped.val, want)
	}
	ctl.closeWrite()
	if status := zygote.Wait(); status != 0 {
		t.Errorf("zygote exit status %d, want 0", status)
	}
}
