package wsgi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// debianPython is the interpreter that has the frameworks (Flask, Django,
// ...) from Debian's packages. The python3 first on PATH may be another build
// without them.
const debianPython = "/usr/bin/python3"

// pythons returns the interpreters the core behaviours are tested on:
// Debian's, and the python3 first on PATH when that is another one.
func pythons(t *testing.T) []string {
	t.Helper()
	var out []string
	if _, err := os.Stat(debianPython); err == nil {
		out = append(out, debianPython)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && !sameFile(real, debianPython) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no Python interpreter: install python3")
	}
	return out
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// requireModule skips t unless Debian's Python can import module.
func requireModule(t *testing.T, module string) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import "+module).Run(); err != nil {
		t.Skipf("%s cannot import %s (install Debian's python3-%s): %v", debianPython, module, module, err)
	}
}

// logBuffer collects a Container's log and lets a test wait for a line.
type logBuffer struct {
	mu   sync.Mutex
	cond *sync.Cond
	buf  bytes.Buffer
}

func newLogBuffer() *logBuffer {
	l := &logBuffer{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cond.Broadcast()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits until the log holds every one of subs, failing t after a
// deadline. Log lines from workers arrive asynchronously.
func (l *logBuffer) await(t *testing.T, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		missing := ""
		for _, s := range subs {
			if !strings.Contains(l.buf.String(), s) {
				missing = s
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q; it says:\n%s", missing, l.buf.String())
		}
		l.cond.Wait()
	}
}

// testServer is a started Container behind an httptest.Server.
type testServer struct {
	*httptest.Server
	c    *Container
	logs *logBuffer
}

// startApp starts cfg (Dir defaults to testdata/apps, Python to Debian's,
// Workers to 2) and serves it until t ends.
func startApp(t *testing.T, cfg Config) *testServer {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = "testdata/apps"
	}
	if cfg.Python == "" {
		cfg.Python = debianPython
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	logs := newLogBuffer()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	c, err := NewContainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ts := &testServer{Server: httptest.NewServer(c), c: c, logs: logs}
	t.Cleanup(func() {
		ts.Server.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("container log:\n%s", clip(logs.String()))
		}
	})
	return ts
}

// do sends req and returns the response with its whole body.
func (ts *testServer) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

// get is do for a GET of path.
func (ts *testServer) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ts.do(t, req)
}

// clip shortens each long line of a log, so that a failure stays readable.
func clip(log string) string {
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "..."
		}
	}
	return strings.Join(lines, "\n")
}

// awaitFailure checks a response the Container made in the app's place:
// the status, a body that names only the status and the request id (no
// worker, pid, exit status or protocol detail), and a log line with that
// request id saying each of why.
func (ts *testServer) awaitFailure(t *testing.T, resp *http.Response, body string, status int, why ...string) {
	t.Helper()
	id := resp.Header.Get("X-Request-Id")
	want := fmt.Sprintf("%d %s\nrequest id: %s\n", status, http.StatusText(status), id)
	if resp.StatusCode != status || id == "" || body != want {
		t.Errorf("got %s %q (X-Request-Id %q); want %d with the generic body %q", resp.Status, clip(body), id, status, want)
	}
	ts.logs.await(t, append([]string{"request_id=" + id}, why...)...)
}
