package wsgi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type recorder struct {
	*httptest.ResponseRecorder
	code int
}

func newRecorder() *recorder { return &recorder{ResponseRecorder: httptest.NewRecorder()} }

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseRecorder.WriteHeader(code)
}

// httpRequest is a client request, for testServer.do.
func httpRequest(method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// serverRequest is a request as a handler receives it, for ServeHTTP.
func serverRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitDraining waits until c lets no request in and waits for those
// inside.
func waitDraining(t *testing.T, c *Container) {
	t.Helper()
	proctest.Eventually(t, 10*time.Second, "container draining", c.gate.Draining)
}

// waitWaiting waits until n requests wait for a worker in c.
func waitWaiting(t *testing.T, c *Container, n int) {
	t.Helper()
	proctest.Poll(t, 10*time.Second, fmt.Sprintf("%d requests waiting", n), func() (int, bool) {
		got := c.pool.Waiting()
		return got, got == n
	})
}
