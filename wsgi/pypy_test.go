package wsgi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPreloadPyPy: the zygote of preload runs on PyPy (Debian's pypy3),
// whose fcntl has no F_DUPFD_CLOEXEC, and its forked workers serve.
func TestPreloadPyPy(t *testing.T) {
	pypy, err := exec.LookPath("pypy3")
	if err != nil {
		t.Skip("pypy3 is not installed (scripts/install-deps installs it): preload on PyPy untested")
	}
	ts := startApp(t, Config{App: "pep:dispatch", Python: pypy, Preload: true, Workers: 2})
	z := zygoteOf(t, ts.c)
	checkForked(t, ts, z, 2)
	resp, body := ts.call(t, "hello", "GET", "/", nil)
	if resp.StatusCode != 200 || body != "Hello world!\n" {
		t.Errorf("hello on a worker forked by PyPy: %s %q", resp.Status, body)
	}
	if !strings.Contains(ts.logs.String(), "PyPy") {
		t.Errorf("the log does not say the app runs on PyPy:\n%s", clip(ts.logs.String()))
	}
}
