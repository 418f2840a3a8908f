package asgi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/wsgi"
)

// TestCloseRacesStart: an asgi.Container closed while Start is starting
// its workers (at once, or once a worker process runs) returns from Close
// with no worker left and stays closed: a request gets 503. As wsgi's
// test of the same name; Debian's /usr/bin/python3, a bare ASGI callable.
func TestCloseRacesStart(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	app := "async def app(scope, receive, send):\n    pass\n"
	if err := os.WriteFile(filepath.Join(dir, "bare.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	kids := func() []int {
		k, err := proctest.Children(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	for _, st := range []struct {
		name  string
		until func() bool
	}{
		{"at once", func() bool { return true }},
		{"a process runs", func() bool { return len(kids()) > 0 }},
	} {
		t.Run(st.name, func(t *testing.T) {
			for range 8 {
				c, err := NewContainer(Config{Config: wsgi.Config{App: "bare:app", Python: python, Dir: dir, Workers: 2,
					Logger: slog.New(slog.DiscardHandler)}})
				if err != nil {
					t.Fatal(err)
				}
				started := make(chan error, 1)
				go func() { started <- c.Start(context.Background()) }()
				proctest.Eventually(t, 10*time.Second, st.name, st.until)
				c.Close()
				if k := kids(); len(k) != 0 {
					t.Fatalf("Close returned with child processes left: %v", k)
				}
				err = <-started
				w := httptest.NewRecorder()
				c.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
				if w.Code != http.StatusServiceUnavailable {
					t.Fatalf("after Close (Start: %v): status %d; want 503", err, w.Code)
				}
			}
		})
	}
}
