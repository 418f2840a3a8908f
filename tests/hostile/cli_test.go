package hostile

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// debianPython is the interpreter with Flask and Django; the python3 first
// on PATH may be another build.
const debianPython = "/usr/bin/python3"

// timeout bounds every single wait in the tests.
const timeout = 20 * time.Second

// gowsgiBin is the command built by TestMain.
var gowsgiBin string

func TestMain(m *testing.M) {
	proctest.Main(m, func(dir string) (err error) {
		gowsgiBin, err = proctest.GoBuild(dir, "github.com/gowsgi/gowsgi/cmd/gowsgi")
		return err
	})
}

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("no %s: %v", debianPython, err)
	}
}

// appsDir is the directory of the test apps, absolute.
func appsDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A server is a running gowsgi command; t is its test.
type server struct {
	*proctest.Process
	t *testing.T
}

// startServer runs "gowsgi serve args..." with the extra environment env,
// and kills it (with its workers, which die with it) when the test ends.
// With a non-empty wrapper, the command is wrapper's last argument list
// (as prlimit ... --).
func startServer(t *testing.T, env []string, wrapper []string, args ...string) *server {
	t.Helper()
	argv := append([]string{gowsgiBin, "serve"}, args...)
	if len(wrapper) > 0 {
		argv = append(append([]string{}, wrapper...), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	return &server{proctest.Start(t, cmd), t}
}

// serveApp starts gowsgi serving app from testdata/app.py with Debian's
// Python on a free loopback port, and waits until it listens.
func serveApp(t *testing.T, app string, env []string, args ...string) (*server, string) {
	t.Helper()
	needPython(t)
	args = append([]string{"--python", debianPython, "--chdir", appsDir(t), "--bind", "127.0.0.1:0"}, args...)
	s := startServer(t, env, nil, append(args, app)...)
	return s, s.Addr()
}

// workerPIDs returns the pids of the command's children: its workers.
func (s *server) workerPIDs() []int {
	return childPIDs(s.Pid())
}

// childPIDs returns the children of pid, from /proc/PID/task/*/children.
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, w := range strings.Fields(string(b)) {
			var p int
			fmt.Sscan(w, &p)
			pids = append(pids, p)
		}
	}
	return pids
}

// client returns an HTTP client with a bounded timeout.
func client() *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
		MaxIdleConnsPerHost: 64,
	}}
}

// get fetches http://addr+path and returns the status and body; a
// transport error fails the test.
func get(t *testing.T, c *http.Client, addr, path string) (int, string) {
	t.Helper()
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
