package hostile

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// debianPython is the interpreter with Flask and Django; the python3 first
// on PATH may be another build.
const debianPython = "/usr/bin/python3"

// timeout bounds every single wait in the tests.
const timeout = 20 * time.Second

// gowsgiBin is the command built by TestMain.
var gowsgiBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gowsgi-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gowsgiBin = filepath.Join(dir, "gowsgi")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	build := exec.Command(goTool, "build", "-o", gowsgiBin, "github.com/gowsgi/gowsgi/cmd/gowsgi")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gowsgi:", err)
		return 1
	}
	return m.Run()
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

// A server is a running gowsgi command whose stderr is collected line by
// line.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{} // closed when the command has exited and stderr is read
	err  error         // from Wait, once done

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
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
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("gowsgi %s stderr (last 60 lines):\n%s", strings.Join(args, " "), s.tail(60))
		}
	})
	return s
}

// serveApp starts gowsgi serving app from testdata/app.py with Debian's
// Python on a free loopback port, and waits until it listens.
func serveApp(t *testing.T, app string, env []string, args ...string) (*server, string) {
	t.Helper()
	needPython(t)
	args = append([]string{"--python", debianPython, "--chdir", appsDir(t), "--bind", "127.0.0.1:0"}, args...)
	s := startServer(t, env, nil, append(args, app)...)
	return s, s.addr()
}

func (s *server) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// count returns how many stderr lines so far contain text.
func (s *server) count(text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if strings.Contains(l, text) {
			n++
		}
	}
	return n
}

// waitLine waits for a stderr line containing every one of texts, from the
// from-th line on, and returns it.
func (s *server) waitLine(texts ...string) string {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := 0; ; {
		s.mu.Lock()
		lines, changed := s.lines, s.changed
		s.mu.Unlock()
	next:
		for ; i < len(lines); i++ {
			for _, text := range texts {
				if !strings.Contains(lines[i], text) {
					continue next
				}
			}
			return lines[i]
		}
		select {
		case <-changed:
		case <-s.done:
			s.mu.Lock()
			n := len(s.lines)
			s.mu.Unlock()
			if n > i {
				continue
			}
			s.t.Fatalf("gowsgi exited (%v) without logging %q", s.err, texts)
		case <-deadline.C:
			s.t.Fatalf("gowsgi did not log %q within %v", texts, timeout)
		}
	}
}

// addr waits for the command to log where it listens and returns that.
func (s *server) addr() string {
	s.t.Helper()
	line := s.waitLine("msg=listening")
	_, addr, ok := strings.Cut(line, "addr=")
	if !ok {
		s.t.Fatalf("no addr= in %q", line)
	}
	addr, _, _ = strings.Cut(addr, " ")
	return addr
}

// exited reports whether the command has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the command to exit.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.t.Fatalf("gowsgi did not exit within %v of SIGTERM", timeout)
	}
}

// workerPIDs returns the pids of the command's children: its workers.
func (s *server) workerPIDs() []int {
	return childPIDs(s.cmd.Process.Pid)
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
