package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// writeApp writes versioned.py into dir: an app that answers body.
func writeApp(t *testing.T, dir, body string) {
	t.Helper()
	src := "def application(environ, start_response):\n" +
		"    start_response('200 OK', [('Content-Type', 'text/plain')])\n" +
		"    return [" + body + "]\n"
	// Write then rename, so that a worker never imports half a file.
	tmp := filepath.Join(dir, ".versioned.tmp")
	if err := os.WriteFile(tmp, []byte(src), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "versioned.py")); err != nil {
		t.Fatal(err)
	}
}

// load runs clients goroutines that GET url in a loop until stop is
// closed, counting the requests and the failures (errors, or a status
// other than 200), and the bodies that contain want.
type load struct {
	served, failed, wanted atomic.Int64
	mu                     sync.Mutex
	firstFailure           string
	stop                   chan struct{}
	wg                     sync.WaitGroup
}

func startLoad(t *testing.T, clients int, url, want string) *load {
	l := &load{stop: make(chan struct{})}
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: timeout}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := client.Get(url)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = &statusError{resp.Status, string(body)}
					}
				}
				l.served.Add(1)
				if err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if l.firstFailure == "" {
						l.firstFailure = err.Error()
					}
					l.mu.Unlock()
					continue
				}
				if strings.Contains(string(body), want) {
					l.wanted.Add(1)
				}
			}
		}()
	}
	t.Cleanup(func() { l.end(); tr.CloseIdleConnections() })
	return l
}

type statusError struct{ status, body string }

func (e *statusError) Error() string { return e.status + ": " + e.body }

func (l *load) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// TestReloadUnderLoad sends SIGHUP to the real command while clients keep
// requesting: the new code takes over and no request fails. A second
// SIGHUP with code that does not import leaves the new code serving.
func TestReloadUnderLoad(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	writeApp(t, dir, `b"version one"`)
	c := startCLI(t, []string{"PYTHONDONTWRITEBYTECODE=1"}, "serve", "--bind", "127.0.0.1:0",
		"--python", debianPython, "--chdir", dir, "-w", "2", "versioned:application")
	url := "http://" + c.Addr() + "/"
	if code, body := get(t, http.DefaultClient, url); code != 200 || body != "version one" {
		t.Fatalf("before the reload: %d %q", code, body)
	}

	l := startLoad(t, 4, url, "version two")
	start := time.Now()
	poll(t, "requests served before the reload", func() bool { return l.served.Load() >= 50 })
	writeApp(t, dir, `b"version two"`)
	c.Signal(syscall.SIGHUP)
	c.WaitLine("msg=reloaded")
	poll(t, "new code serving under load for 2s", func() bool {
		return l.wanted.Load() > 0 && time.Since(start) > 2*time.Second
	})
	writeApp(t, dir, `b"broken" +`)
	c.Signal(syscall.SIGHUP)
	c.WaitLine("reload failed: the old workers serve on")
	before := l.served.Load()
	poll(t, "requests served after the failed reload", func() bool { return l.served.Load() >= before+50 })
	l.end()

	t.Logf("%d requests in %v across two reloads (one failed to import), %d answered by the new code, %d failed",
		l.served.Load(), time.Since(start).Round(time.Millisecond), l.wanted.Load(), l.failed.Load())
	if l.failed.Load() != 0 {
		t.Errorf("%d of %d requests failed; first: %s", l.failed.Load(), l.served.Load(), l.firstFailure)
	}
	if code, body := get(t, http.DefaultClient, url); code != 200 || body != "version two" {
		t.Errorf("after the failed reload: %d %q; want the new code serving", code, body)
	}
	if !strings.Contains(c.Stderr(), "SyntaxError") {
		t.Error("the failed reload's log does not show the SyntaxError")
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d; want 0", status)
	}
}

// TestWatchReload edits the app of a command run with --reload: it serves
// the new code without a signal.
func TestWatchReload(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	writeApp(t, dir, `b"before the edit"`)
	c := startCLI(t, []string{"PYTHONDONTWRITEBYTECODE=1"}, "serve", "--bind", "127.0.0.1:0",
		"--python", debianPython, "--chdir", dir, "-w", "1", "--reload", "versioned:application")
	url := "http://" + c.Addr() + "/"
	c.WaitLine("reloading when the sources change")
	if code, body := get(t, http.DefaultClient, url); body != "before the edit" {
		t.Fatalf("before the edit: %d %q", code, body)
	}
	writeApp(t, dir, `b"after the edit, longer"`)
	c.WaitLine("versioned.py changed")
	poll(t, "the edit served", func() bool {
		_, body := get(t, http.DefaultClient, url)
		return body == "after the edit, longer"
	})
}

// TestWorkerSignals adds workers with SIGTTIN and removes them with
// SIGTTOU, never the last one.
func TestWorkerSignals(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "apps:hello")
	url := "http://" + c.Addr() + "/"
	steps := []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGTTIN, "msg=\"workers resized\" from=1 to=2"},
		{syscall.SIGTTIN, "msg=\"workers resized\" from=2 to=3"},
		{syscall.SIGTTOU, "msg=\"workers resized\" from=3 to=2"},
		{syscall.SIGTTOU, "msg=\"workers resized\" from=2 to=1"},
		{syscall.SIGTTOU, "SIGTTOU ignored: the last worker stays"},
	}
	for _, st := range steps {
		c.Signal(st.sig)
		c.WaitLine(st.want)
		if code, body := get(t, http.DefaultClient, url); code != 200 || body != "Hello world!\n" {
			t.Fatalf("after %v: %d %q", st.sig, code, body)
		}
	}
	c.WaitLine("msg=\"worker removed\" worker=1")
}
