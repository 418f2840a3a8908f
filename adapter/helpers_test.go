package adapter_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// python is Debian's interpreter, which has the servers' packages; the
// python3 first on PATH may not.
const python = "/usr/bin/python3"

var (
	libOnce sync.Once
	libPath string
	libErr  error
	libDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if libDir != "" {
		os.RemoveAll(libDir)
	}
	os.Exit(code)
}

// library builds testdata/app as a shared library, once per test binary.
func library(t testing.TB) string {
	t.Helper()
	libOnce.Do(func() {
		libDir, libErr = os.MkdirTemp("", "gowsgi-adapter-test")
		if libErr != nil {
			return
		}
		libPath = filepath.Join(libDir, "app.so")
		out, err := exec.Command("go", "build", "-buildmode=c-shared", "-o", libPath, "./testdata/app").CombinedOutput()
		if err != nil {
			libErr = fmt.Errorf("go build -buildmode=c-shared: %v\n%s", err, out)
		}
	})
	if libErr != nil {
		t.Fatal(libErr)
	}
	return libPath
}

// needPython skips the test if a Debian package it needs is missing.
func needPython(t testing.TB, modules ...string) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s missing: apt-get install python3", python)
	}
	for _, m := range modules {
		if err := exec.Command(python, "-c", "import "+m).Run(); err != nil {
			t.Skipf("Python module %s missing: install its Debian package (python3-%s)", m, m)
		}
	}
}

// pythonEnv is the environment of every Python process under test.
func pythonEnv(t testing.TB, extra ...string) []string {
	abs, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	td, _ := filepath.Abs("testdata")
	return append(os.Environ(), append([]string{
		"GOWSGI_PYTHON=" + abs, "GOWSGI_APP=" + library(t), "PYTHONPATH=" + td, "PYTHONDONTWRITEBYTECODE=1",
	}, extra...)...)
}

// logBuffer collects a process's output for assertions.
type logBuffer struct{ proctest.Buffer }

// waitFor polls the log until it contains s, or fails after d.
func (l *logBuffer) waitFor(t testing.TB, s string, d time.Duration) {
	t.Helper()
	proctest.Poll(t, d, fmt.Sprintf("the log to hold %q", s), func() (string, bool) {
		log := l.String()
		return "log:\n" + log, strings.Contains(log, s)
	})
}

// A server is a WSGI server process serving testdata/wsgiapp.py.
type server struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *logBuffer
	// workers is the number of worker processes.
	workers int
	// threaded servers run requests of one process in parallel.
	threaded bool
	// duplex servers let the application read the body while it writes
	// the response (waitress reads the whole body first).
	duplex bool
	// exited is closed when the process has exited.
	exited chan struct{}
}

// serverKinds are the servers and modes under test: argv, with PORT
// replaced by the port.
var serverKinds = []struct {
	name             string
	module           string // Python module the server needs
	argv             []string
	workers          int
	threaded, duplex bool
}{
	{"wsgiref", "wsgiref", []string{python, "wsgiref_server.py", "PORT", "--threads"}, 1, true, true},
	{"waitress", "waitress", []string{python, "-m", "waitress", "--listen=127.0.0.1:PORT", "--threads=4", "wsgiapp:application"}, 1, true, false},
	{"gunicorn-sync", "gunicorn", []string{python, "-m", "gunicorn", "-b", "127.0.0.1:PORT", "-w", "2", "wsgiapp:application"}, 2, false, true},
	{"gunicorn-gthread", "gunicorn", []string{python, "-m", "gunicorn", "-b", "127.0.0.1:PORT", "-w", "1", "-k", "gthread", "--threads", "4", "wsgiapp:application"}, 1, true, true},
	{"uwsgi-processes", "", []string{"uwsgi", "--plugin", "python3", "--http-socket", "127.0.0.1:PORT", "--master", "--processes", "2", "--module", "wsgiapp:application", "--need-app", "--disable-logging"}, 2, false, true},
	{"uwsgi-threads", "", []string{"uwsgi", "--plugin", "python3", "--http-socket", "127.0.0.1:PORT", "--master", "--processes", "1", "--threads", "4", "--module", "wsgiapp:application", "--need-app", "--disable-logging"}, 1, true, true},
}

// startServer starts the server called name with extra arguments and
// environment, and waits until it answers.
func startServer(t *testing.T, name string, extraArgs []string, extraEnv ...string) *server {
	t.Helper()
	for _, k := range serverKinds {
		if k.name != name {
			continue
		}
		if k.module != "" {
			needPython(t, k.module)
		} else if _, err := exec.LookPath(k.argv[0]); err != nil || exec.Command("uwsgi", "--plugin", "python3", "--version").Run() != nil {
			t.Skip("uwsgi with its python3 plugin missing: apt-get install uwsgi uwsgi-plugin-python3")
		}
		port := freePort(t)
		argv := append([]string{}, k.argv...)
		for i := range argv {
			argv[i] = strings.ReplaceAll(argv[i], "PORT", port)
		}
		argv = append(argv, extraArgs...)
		s := &server{name: name, url: "http://127.0.0.1:" + port, log: &logBuffer{}, workers: k.workers, threaded: k.threaded, duplex: k.duplex}
		s.cmd = exec.Command(argv[0], argv[1:]...)
		s.cmd.Dir = "testdata"
		s.cmd.Env = pythonEnv(t, extraEnv...)
		s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		s.exited = exited
		go func() { s.cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // the server and its workers
			<-exited
			if t.Failed() {
				t.Logf("%s log:\n%s", name, s.log)
			}
		})
		s.waitReady(t, exited)
		return s
	}
	t.Fatalf("no server %q", name)
	return nil
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// waitReady polls GET /pid until the server answers, for at most 20s.
func (s *server) waitReady(t *testing.T, exited <-chan struct{}) {
	t.Helper()
	proctest.Poll(t, 20*time.Second, s.name+" to serve", func() (*logBuffer, bool) {
		select {
		case <-exited:
			t.Fatalf("%s exited before serving:\n%s", s.name, s.log)
		default:
		}
		c, err := net.DialTimeout("tcp", s.url[len("http://"):], time.Second)
		if err != nil {
			return s.log, false
		}
		c.Close()
		// Any answer will do, even a dropped connection: the server is
		// up, though the application may fail.
		resp, err := client.Get(s.url + "/pid")
		if err == nil {
			resp.Body.Close()
		}
		return s.log, err == nil || !errors.Is(err, syscall.ECONNREFUSED)
	})
}

// waitWorkers asks for /pid until every worker process has answered, so
// that each has its own signal handlers in place; it fails after 10s.
func (s *server) waitWorkers(t *testing.T) {
	t.Helper()
	seen := map[string]bool{}
	proctest.Poll(t, 10*time.Second, fmt.Sprintf("all %d workers to answer", s.workers), func() (string, bool) {
		if len(seen) < s.workers {
			_, pid := s.do(t, "GET", "/pid", nil)
			seen[pid] = true
		}
		return fmt.Sprintf("%d answered; log:\n%s", len(seen), s.log), len(seen) >= s.workers
	})
}

// client opens a connection per request: some servers close idle ones
// without saying so (uWSGI's --http-socket), and a POST is not retried.
var client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get fetches s.url+path and returns the response and its body.
func (s *server) do(t *testing.T, method, path string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(b)
}
