package pyruntime

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHooksRunner: a worker whose config file defines neither pre_request
// nor post_request serves each request with handler.run itself, so that
// a request pays nothing for hooks; with either, with the hooks around
// it. Run with Debian's /usr/bin/python3.
func TestHooksRunner(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	dir := t.TempDir()
	if _, err := Install(dir); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		conf string
		want string
	}{
		{"", "run"},
		{"def post_fork(server, worker):\n    pass\n", "run"},
		{"pre_request = None\n", "run"},
		{"def pre_request(worker, req):\n    pass\n", "hooked"},
		{"def post_request(worker, req, environ, resp):\n    pass\n", "hooked"},
	}
	for _, tc := range cases {
		file := filepath.Join(t.TempDir(), "gunicorn.conf.py")
		if err := os.WriteFile(file, []byte(tc.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		script := `import sys
sys.path.insert(0, sys.argv[1])
from _gowsgi import handler, hooks
h = hooks.WorkerHooks(sys.argv[2])
h.started(1, 0)
print("run" if h.runner(None) is handler.run else "hooked")
`
		out, err := exec.Command(python, "-c", script, dir, file).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("config %q: runner is %q (%v); want %q", tc.conf, got, err, tc.want)
		}
	}
}
