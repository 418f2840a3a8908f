package hostile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawGet sends "GET path" on a new connection and returns the response
// and every byte the server sent until it answered in full or closed.
func rawGet(t *testing.T, addr, path string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	var raw bytes.Buffer
	resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(conn, &raw)), nil)
	if err != nil {
		t.Fatalf("GET %s: %v (read %q)", path, err, raw.Bytes())
	}
	io.Copy(io.Discard, resp.Body) // a cut body ends the copy early
	resp.Body.Close()
	io.Copy(&raw, conn)
	return resp, raw.Bytes()
}

// TestHostileResponses: an app that puts CR, LF or NUL in a header or its
// status line gets a 500 from Go, and the bytes on the wire hold neither
// the injected header nor the app's body; the log says why; the worker
// serves the next request.
func TestHostileResponses(t *testing.T) {
	s, addr := serveApp(t, "app:app", nil, "--workers", "1")
	for _, tc := range []struct {
		path string
		log  string // in the log line that reports it
	}{
		{"/header-crlf", "control character"},
		{"/header-lf", "control character"},
		{"/header-nul", "control character"},
		{"/header-name", "not an HTTP token"},
		{"/status-crlf", "control"},
		{"/status-garbage", "not a 3-digit code"},
		{"/status-short", "not a 3-digit code"},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			resp, raw := rawGet(t, addr, tc.path)
			if resp.StatusCode != 500 {
				t.Errorf("got %s; want 500", resp.Status)
			}
			for _, bad := range []string{"pwned", "Injected", "never sent", "X-Evil"} {
				if bytes.Contains(raw, []byte(bad)) {
					t.Errorf("%q on the wire:\n%s", bad, raw)
				}
			}
			s.WaitLine("invalid response from app", "path="+tc.path, tc.log)
			if resp, _ := rawGet(t, addr, "/next"); resp.StatusCode != 200 {
				t.Errorf("next request: %s", resp.Status)
			}
		})
	}
}

// TestHostileAppFaults: apps that fail mid-body, exit, leak every file
// descriptor or print megabytes without a newline. The Go process
// survives each, the client gets a clear answer, the log says what
// happened, and the next requests are served.
func TestHostileAppFaults(t *testing.T) {
	s, addr := serveApp(t, "app:app", nil, "--workers", "1")
	c := client()

	t.Run("raise-after-start", func(t *testing.T) {
		// Output has started: the connection is cut, never a short body
		// that looks complete.
		resp, raw := rawGet(t, addr, "/raise-after-start")
		if resp.StatusCode != 200 || !bytes.HasSuffix(raw, []byte("partial")) {
			t.Errorf("got %s, ending %q; want 200 cut after \"partial\"", resp.Status, raw[max(0, len(raw)-20):])
		}
		s.WaitLine("app raised an exception", "/raise-after-start")
	})
	t.Run("exit", func(t *testing.T) {
		code, body := get(t, c, addr, "/exit")
		// The client learns the status and the request id; the log, with
		// that id, says why.
		id, ok := strings.CutPrefix(body, "502 Bad Gateway\nrequest id: ")
		id = strings.TrimSuffix(id, "\n")
		if code != 502 || !ok || id == "" || strings.Contains(body, "exit") {
			t.Errorf("got %d %q; want 502 with only the request id", code, body)
		}
		s.WaitLine("worker failed during a request", "exit status 3", "request_id="+id)
	})
	t.Run("print-mb", func(t *testing.T) {
		before := s.Count("stream=stdout")
		if code, body := get(t, c, addr, "/print-mb"); code != 200 || body != "printed\n" {
			t.Errorf("got %d %q", code, body)
		}
		// 8 MiB without a newline is logged in 16 KiB pieces, not held.
		if !eventually(timeout, func() bool { return s.Count("stream=stdout")-before >= 8<<20/(16<<10) }) {
			t.Errorf("%d stdout records logged; want the 8 MiB in 16 KiB pieces", s.Count("stream=stdout")-before)
		}
	})
	t.Run("leak-all-fds", func(t *testing.T) {
		code, body := get(t, c, addr, "/leak-all-fds")
		if code != 200 || !strings.HasPrefix(body, "leaked ") {
			t.Fatalf("got %d %q", code, body)
		}
		t.Logf("the worker %s", strings.TrimSpace(body))
		// Its channel is open already: plain requests are served...
		if code, _ := get(t, c, addr, "/after-leak"); code != 200 {
			t.Errorf("next request: %d", code)
		}
		// ...and a body spooled to a file, which the worker cannot open,
		// gets a clear 5xx.
		resp, err := c.Post("http://"+addr+"/spooled", "application/octet-stream", bytes.NewReader(make([]byte, 2<<20)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("spooled body on a worker without fds: %s %q", resp.Status, b)
		switch {
		case resp.StatusCode >= 500:
			// Today the runtime's thread dies on EMFILE opening the
			// body, the worker exits and is replaced: a 502, and the log
			// has the Python error.
			s.WaitLine("Too many open files")
		case resp.StatusCode != 200:
			t.Errorf("got %s; want it served or a 5xx", resp.Status)
		}
	})
	for i := 0; i < 3; i++ {
		if code, _ := get(t, c, addr, "/last"); code != 200 {
			t.Errorf("request after the faults: %d", code)
		}
	}
	if s.Exited() {
		t.Fatal("gowsgi exited")
	}
}

// TestForkedChild: an app forks a child, which keeps every fd of the
// worker (its channel and output pipes among them: the runtime marks them
// non-inheritable, which only matters at exec). While the child lingers,
// requests are served; the worker killed by SIGKILL is replaced and the
// next requests are served by the new one; and SIGTERM still stops the
// server within its graceful timeout.
func TestForkedChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "forked")
	s, addr := serveApp(t, "app:app", []string{"FORK_PID_FILE=" + pidFile, "FORK_LINGER=60"},
		"--workers", "1", "--graceful-timeout", "5")
	t.Cleanup(func() {
		b, _ := os.ReadFile(pidFile)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	c := client()
	if code, body := get(t, c, addr, "/fork"); code != 200 || !strings.HasPrefix(body, "forked ") {
		t.Fatalf("got %d %q", code, body)
	}
	for i := 0; i < 5; i++ {
		if code, _ := get(t, c, addr, "/while-forked"); code != 200 {
			t.Fatalf("request while the child lingers: %d", code)
		}
	}
	workers := s.workerPIDs()
	if len(workers) != 1 {
		t.Fatalf("workers %v; want one", workers)
	}
	started := s.Count("worker started")
	syscall.Kill(workers[0], syscall.SIGKILL)
	if !eventually(timeout, func() bool { return s.Count("worker started") > started }) {
		t.Fatal("the killed worker, whose child holds its channel, was not replaced")
	}
	for i := 0; i < 5; i++ {
		if code, _ := get(t, c, addr, "/after-kill"); code != 200 {
			t.Fatalf("request after the kill: %d", code)
		}
	}
	start := time.Now()
	s.Signal(syscall.SIGTERM)
	s.Wait() // whatever the status
	if d := time.Since(start); d > 7*time.Second {
		t.Errorf("SIGTERM took %v with a lingering child; graceful timeout 5s", d)
	}
	t.Logf("stopped in %v with the forked child alive", time.Since(start).Round(time.Millisecond))
}

// TestHungApp: an app that sends nothing for --timeout gets its client a
// 504, its Python stack in the log, and its worker replaced; the next
// request is served.
func TestHungApp(t *testing.T) {
	s, addr := serveApp(t, "app:app", nil, "--workers", "1", "--timeout", "1")
	c := client()
	code, body := get(t, c, addr, "/sleep?30")
	if code != 504 {
		t.Errorf("got %d %q; want 504", code, body)
	}
	s.WaitLine("request timed out")
	s.WaitLine("in sleep") // the app's frame, from faulthandler
	s.WaitLine("worker started", "worker=0")
	if code, _ := get(t, c, addr, "/after"); code != 200 {
		t.Errorf("next request: %d", code)
	}
}
