package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestAccessLog serves with a JSON access log in a file and a JSON server
// log: the app sees the request ID it was sent, or one made for it, the
// response echoes it, and the log has a line for each request, the static
// file's with no worker.
func TestAccessLog(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.txt"), []byte("file"), 0o644)
	logFile := filepath.Join(dir, "access.log")
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--access-log", "json", "--access-logfile", logFile, "--log-format", "json", "--static", "/s="+dir, "ops:rid")
	addr := jsonAddr(t, c)

	cases := []struct {
		path, sent string
		code       int
		worker     bool
	}{
		{"/a?x=1", "abc-123", 200, true},
		{"/b", "", 200, true},
		{"/c", "bad id with spaces", 200, true},
		{"/status/404", "", 404, true},
		{"/s/f.txt", "static-1", 200, false},
	}
	var ids []string
	for _, tc := range cases {
		req, _ := http.NewRequest("GET", "http://"+addr+tc.path, nil)
		if tc.sent != "" {
			req.Header.Set("X-Request-ID", tc.sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("X-Request-ID")
		switch {
		case resp.StatusCode != tc.code:
			t.Errorf("GET %s: status %d; want %d", tc.path, resp.StatusCode, tc.code)
		case tc.sent == "abc-123" && id != tc.sent, tc.sent == "static-1" && id != tc.sent:
			t.Errorf("GET %s with X-Request-ID %q: response ID %q; want it kept", tc.path, tc.sent, id)
		case (tc.sent == "" || tc.sent == "bad id with spaces") && !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id):
			t.Errorf("GET %s with X-Request-ID %q: response ID %q; want a new one", tc.path, tc.sent, id)
		case tc.worker && body.String() != id:
			t.Errorf("GET %s: the app saw HTTP_X_REQUEST_ID %q; the response says %q", tc.path, body.String(), id)
		}
		ids = append(ids, id)
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Fatalf("exit status %d", status)
	}
	for _, line := range strings.Split(c.Stderr(), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("server log line is not JSON: %q", line)
		}
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d access log lines; want %d:\n%s", len(lines), len(cases), data)
	}
	for i, line := range lines {
		var rec struct {
			ID       string
			Method   string
			URI      string
			Status   int
			Bytes    int64
			Duration float64
			Worker   int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		tc := cases[i]
		if rec.ID != ids[i] || rec.URI != tc.path || rec.Status != tc.code || rec.Method != "GET" || rec.Duration <= 0 ||
			rec.Bytes == 0 || (!tc.worker && rec.Worker != -1) {
			t.Errorf("access log line %q; want id %s, GET %s, status %d, bytes, duration", line, ids[i], tc.path, tc.code)
		}
	}
}

// jsonAddr waits for a JSON server log to say where the command listens.
func jsonAddr(t *testing.T, c *proctest.Process) string {
	t.Helper()
	var rec struct{ Addr string }
	if err := json.Unmarshal([]byte(c.WaitLine(`"msg":"listening"`)), &rec); err != nil || rec.Addr == "" {
		t.Fatalf("no addr in the listening line: %v", err)
	}
	return rec.Addr
}

// TestAccessLogReopen rotates the access log as logrotate does: the file
// is moved aside, SIGHUP or SIGUSR1 makes the command create it anew, and
// the next request's line goes there while the moved file keeps the
// earlier ones. SIGUSR1 does not reload the app.
func TestAccessLogReopen(t *testing.T) {
	needPython(t)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			testAccessLogReopen(t, sig)
		})
	}
}

func testAccessLogReopen(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "access.log")
	rotated := logFile + ".1"
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--access-logfile", logFile, "ops:rid")
	addr := "http://" + c.Addr()
	// fileHas waits until path holds a line with s, and returns the file.
	fileHas := func(path, s string) string {
		t.Helper()
		var data []byte
		poll(t, path+" has a line with "+s, func() bool {
			data, _ = os.ReadFile(path)
			return bytes.Contains(data, []byte(s))
		})
		return string(data)
	}
	for _, path := range []string{"/before-1", "/before-2"} {
		if code, _ := get(t, http.DefaultClient, addr+path); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
	}
	fileHas(logFile, "GET /before-2 ")

	if err := os.Rename(logFile, rotated); err != nil {
		t.Fatal(err)
	}
	c.Signal(sig)
	c.WaitLine("access log reopened")
	if code, _ := get(t, http.DefaultClient, addr+"/after"); code != 200 {
		t.Fatalf("GET /after: %d", code)
	}
	if reloads := c.Count("reloading"); sig == syscall.SIGUSR1 && reloads > 0 {
		t.Errorf("SIGUSR1 reloaded the app:\n%s", c.Stderr())
	}
	if got := fileHas(logFile, "GET /after "); strings.Count(got, "\n") != 1 {
		t.Errorf("the new %s holds:\n%s\nwant the one line of GET /after", logFile, got)
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Fatalf("exit status %d", status)
	}
	old, err := os.ReadFile(rotated)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(old), "\n"); n != 2 || !strings.Contains(string(old), "GET /before-1 ") ||
		!strings.Contains(string(old), "GET /before-2 ") {
		t.Errorf("the rotated file holds:\n%s\nwant the two lines of GET /before-1 and /before-2", old)
	}
}

// TestLogDurations: the server log writes durations as "30s" in text and
// as seconds in JSON, groups included.
func TestLogDurations(t *testing.T) {
	for format, want := range map[logFormatValue]string{
		"text": `level=INFO msg=stopping timeout=30s delay=250ms pool.wait=1m30s n=3`,
		"json": `{"level":"INFO","msg":"stopping","timeout":30,"delay":0.25,"pool":{"wait":90},"n":3}`,
	} {
		var buf bytes.Buffer
		h := newLogHandler(&serveOptions{logFormat: format}, &buf)
		slog.New(h).Info("stopping", "timeout", 30*time.Second, "delay", 250*time.Millisecond,
			slog.Group("pool", "wait", 90*time.Second), "n", 3)
		got := strings.TrimSpace(buf.String())
		got = regexp.MustCompile(`^time=\S+ |"time":"[^"]*",`).ReplaceAllString(got, "")
		if got != want {
			t.Errorf("--log-format %s:\n%s\nwant\n%s", format, got, want)
		}
	}
}
