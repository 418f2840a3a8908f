package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestGoHello serves an app that does not exist with --go-hello: Go
// answers with the benchmark's hello response, no Python starts, and the
// static mounts and the access log still stand in front; /download is the
// download app's 10 MB. (The module does not exist: a worker would fail to
// import it, and serve exit with 4.)
func TestGoHello(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("static\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython,
		"--go-hello", "--static", "/s="+dir, "--access-log", "common", "--access-logfile", filepath.Join(dir, "access.log"),
		"nosuchmodule:app")
	base := "http://" + c.Addr()
	for _, tc := range []struct{ path, want string }{
		{"/", "Hello, World!\n"},
		{"/any/path?q=1", "Hello, World!\n"},
		{"/sleep", "Hello, World!\n"},
		{"/s/a.txt", "static\n"},
	} {
		code, body := get(t, http.DefaultClient, base+tc.path)
		if code != 200 || body != tc.want {
			t.Errorf("GET %s: %d %q; want 200 %q", tc.path, code, body, tc.want)
		}
	}
	code, body := get(t, http.DefaultClient, base+"/download")
	if want := strings.Repeat("d", downloadSize); code != 200 || body != want {
		t.Errorf("GET /download: %d, %d bytes; want 200 and download.py's 10 MB of d", code, len(body))
	}
	resp, err := http.Head(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Type") + " " + resp.Header.Get("Content-Length"); got != "text/plain 14" {
		t.Errorf("Content-Type and Content-Length: %q; want the Python hello's, text/plain 14", got)
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d after SIGTERM; want 0", status)
	}
	log, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "\n"); n != 6 {
		t.Errorf("access log has %d lines; want 6:\n%s", n, log)
	}
}
