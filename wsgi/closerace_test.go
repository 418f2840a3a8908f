package wsgi

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestCloseRacesStart: Close while Start is still starting the workers
// (at once, once the runtime is installed, once a worker process runs;
// with and without preload) returns only when no worker (or zygote) is
// left, leaves no runtime directory, and leaves the Container closed:
// Start fails, and a request gets 503. Workers of Debian's
// /usr/bin/python3; run it with -race too.
func TestCloseRacesStart(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the pool installs its runtime
	appDir := t.TempDir()
	writeFile(t, filepath.Join(appDir, "app.py"),
		"def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n")
	runtimes := func() []string {
		dirs, _ := filepath.Glob(filepath.Join(tmp, "gowsgi-runtime-*"))
		return dirs
	}
	stages := []struct {
		name  string
		until func() bool // Close once it holds
	}{
		{"at once", func() bool { return true }},
		{"runtime installed", func() bool { return len(runtimes()) > 0 }},
		{"a process runs", func() bool { return len(childProcesses(t)) > 0 }},
	}
	for _, preload := range []bool{false, true} {
		for _, st := range stages {
			name := st.name
			if preload {
				name += " preload"
			}
			t.Run(name, func(t *testing.T) {
				for range 8 {
					c, err := NewContainer(Config{App: "app", Python: debianPython, Dir: appDir, Workers: 2,
						Preload: preload, Logger: discardLogger()})
					if err != nil {
						t.Skip(err)
					}
					started := make(chan error, 1)
					go func() { started <- c.Start(context.Background()) }()
					proctest.Eventually(t, 10*time.Second, name, st.until)
					c.Close()
					if kids := childProcesses(t); len(kids) != 0 {
						t.Fatalf("Close returned with child processes left: %v", kids)
					}
					err = <-started
					if kids := childProcesses(t); len(kids) != 0 {
						t.Fatalf("Start returned (%v) after Close with child processes left: %v", err, kids)
					}
					if dirs := runtimes(); len(dirs) != 0 {
						t.Fatalf("runtime directories left: %v", dirs)
					}
					w := newRecorder()
					c.ServeHTTP(w, serverRequest("GET", "/"))
					if w.Code != http.StatusServiceUnavailable {
						t.Fatalf("after Close (Start: %v): status %d; want 503", err, w.Code)
					}
				}
			})
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left in TMPDIR: %v", entries)
	}
}
