package wheel

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestInstall installs this machine's wheel into a fresh virtualenv, serves
// testdata/app.py (Flask) with its gowsgi and no --python, runs python -m
// gowsgi, and uninstalls it.
func TestInstall(t *testing.T) {
	whl := thisMachine(t)
	dir := t.TempDir()
	venv := filepath.Join(dir, "venv")
	// Flask comes from Debian's packages, as PyPI is not reachable.
	if out, err := exec.Command(debianPython, "-m", "venv", "--system-site-packages", venv).CombinedOutput(); err != nil {
		t.Skipf("python3 -m venv: %v (apt-get install python3-venv)\n%s", err, out)
	}
	before := tree(t, venv)

	run(t, "", filepath.Join(venv, "bin", "pip"), "install", "--no-index", "--no-cache-dir", whl)
	gowsgi := filepath.Join(venv, "bin", "gowsgi")
	if _, err := os.Stat(gowsgi); err != nil {
		t.Fatalf("pip install made no gowsgi script: %v", err)
	}

	t.Run("serve", func(t *testing.T) {
		// Neither VIRTUAL_ENV nor GOWSGI_PYTHON is set, and python3 on PATH
		// is another interpreter (pyenv's, or Debian's outside the venv):
		// only the launcher can name the venv's, and sys.prefix says which
		// ran the app.
		cmd := exec.Command(gowsgi, "serve", "-b", "127.0.0.1:0", "-w", "1", "app:app")
		cmd.Dir = "testdata"
		cmd.Env = environ()
		p := proctest.Start(t, cmd)
		addr := p.Addr()
		c := &http.Client{Timeout: proctest.Timeout}
		resp, err := c.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct {
			Prefix, Executable, Flask string
			PPID                      int
		}
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /: %s %v\n%s", resp.Status, err, body)
		}
		if got.Prefix != venv || got.Flask != "flask" {
			t.Errorf("the app runs with sys.prefix %s (%s), want the venv's %s", got.Prefix, got.Executable, venv)
		}
		// The launcher execs the binary: the workers' parent is the process
		// started, not a child of it.
		if got.PPID != p.Pid() {
			t.Errorf("the worker's parent is %d, want the launcher's pid %d (exec)", got.PPID, p.Pid())
		}
		p.Stop()
	})

	t.Run("python -m gowsgi", func(t *testing.T) {
		python := filepath.Join(venv, "bin", "python")
		out := run(t, "", python, "-m", "gowsgi", "--version")
		want, platform := "gowsgi "+version(whl)+" go", runtime.GOOS+"/"+runtime.GOARCH
		if !strings.HasPrefix(out, want) || !strings.HasSuffix(strings.TrimSpace(out), platform) {
			t.Errorf("python -m gowsgi --version: %q, want %q... %s", out, want, platform)
		}
		// Its default interpreter is the one that ran it, as the script's.
		out = run(t, "testdata", python, "-m", "gowsgi", "check", "app:app")
		if !strings.Contains(out, "python:  "+python+" (CPython") || !strings.Contains(out, "result:  ok") {
			t.Errorf("python -m gowsgi check app:app, want %s:\n%s", python, out)
		}
	})

	run(t, "", filepath.Join(venv, "bin", "pip"), "uninstall", "--yes", "gowsgi")
	after := tree(t, venv)
	for path, kind := range after {
		if was, ok := before[path]; !ok || was != kind {
			t.Errorf("left after pip uninstall: %s (%v)", path, kind)
		}
	}
	for path := range before {
		if _, ok := after[path]; !ok {
			t.Errorf("removed by pip install and uninstall: %s", path)
		}
	}
}

// environ is the environment of the commands run in the venv: this one
// without the variables that would choose a Python, or pip's settings.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "VIRTUAL_ENV" || k == "PYTHONHOME" || k == "PYTHONPATH" ||
			strings.HasPrefix(k, "GOWSGI_") || strings.HasPrefix(k, "PIP_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PIP_DISABLE_PIP_VERSION_CHECK=1", "PYTHONDONTWRITEBYTECODE=1")
}

// run runs argv in dir (default: the current one) and returns its output,
// failing the test if it fails or takes longer than proctest.Timeout.
func run(t *testing.T, dir string, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), proctest.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// tree returns every path under root with its type.
func tree(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	paths := make(map[string]fs.FileMode)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths[path] = d.Type()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}
