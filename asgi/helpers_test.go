package asgi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/wsgi"
)

// python is the interpreter of these tests: Debian's, which has FastAPI,
// Starlette, Django and httpx from apt (scripts/install-deps).
const python = "/usr/bin/python3"

func needPython(t testing.TB, modules ...string) {
	t.Helper()
	if _, err := exec.LookPath(python); err != nil {
		t.Skipf("%s: %v", python, err)
	}
	for _, m := range modules {
		if err := exec.Command(python, "-c", "import "+m).Run(); err != nil {
			t.Skipf("%s cannot import %s (scripts/install-deps installs it)", python, m)
		}
	}
}

// testServer is a started Container behind an httptest.Server.
type testServer struct {
	c    *Container
	srv  *httptest.Server
	logs *proctest.Buffer
}

// start starts a Container for app (in testdata unless cfg.Dir says
// otherwise), one worker unless cfg says more, and an HTTP server for it.
func start(t testing.TB, app string, edit func(*Config)) *testServer {
	t.Helper()
	needPython(t)
	logs := new(proctest.Buffer)
	cfg := Config{Config: wsgi.Config{App: app, Python: python, Dir: "testdata", Workers: 1,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}}
	if edit != nil {
		edit(&cfg)
	}
	c, err := NewContainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v\nlog:\n%s", err, logs)
	}
	ts := &testServer{c: c, srv: httptest.NewServer(c), logs: logs}
	t.Cleanup(func() {
		ts.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v\nlog:\n%s", err, logs)
		}
	})
	return ts
}

// get fetches path and returns the response with its body read.
func (ts *testServer) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return ts.do(t, httpRequest(t, "GET", ts.srv.URL+path, nil))
}

func (ts *testServer) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nlog:\n%s", req.Method, req.URL, err, ts.logs)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v\nlog:\n%s", req.Method, req.URL, err, ts.logs)
	}
	return resp, string(b)
}

func httpRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// awaitLog waits until the log holds text.
func (ts *testServer) awaitLog(t *testing.T, text string) {
	t.Helper()
	proctest.Eventually(t, 10*time.Second, "log line "+text, func() bool {
		return strings.Contains(ts.logs.String(), text)
	})
}

func readAll(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
