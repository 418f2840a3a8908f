package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAdmin follows /readyz through a server's life: 503 while the app is
// importing, 200 while it serves, 503 again once SIGTERM began with a
// request in flight, which the status page and /metrics show; /healthz is
// 200 all along and /metrics counts the requests served.
func TestAdmin(t *testing.T) {
	needPython(t)
	t.Parallel()
	sync := t.TempDir()
	c := startCLI(t, []string{"SYNC_DIR=" + sync}, "serve", "-b", "127.0.0.1:0", "--python", debianPython,
		"--chdir", "testdata", "-w", "1", "--threads", "2", "--admin", "127.0.0.1:0", "slowstart")
	line := c.WaitLine("admin listening")
	_, admin, _ := strings.Cut(line, "addr=")
	admin = "http://" + admin

	expect := func(path string, code int, wants ...string) {
		t.Helper()
		got, body := get(t, http.DefaultClient, admin+path)
		if got != code {
			t.Errorf("%s: %d; want %d", path, got, code)
		}
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q:\n%s", path, want, body)
			}
		}
	}
	expect("/healthz", 200)
	expect("/readyz", 503)
	expect("/metrics", 200, "gowsgi_ready 0\n")

	os.WriteFile(filepath.Join(sync, "imported"), nil, 0o644)
	addr := "http://" + c.Addr()
	expect("/readyz", 200)
	for _, path := range []string{"/", "/x", "/y"} {
		if code, _ := get(t, http.DefaultClient, addr+path); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
	}
	expect("/metrics", 200, `gowsgi_http_requests_total{method="GET",code="2xx"} 3`+"\n", "gowsgi_ready 1\n",
		`gowsgi_worker_threads{state="idle"} 2`+"\n", `gowsgi_workers{state="ready"} 1`+"\n")

	held := getLater(addr + "/hold")
	waitFile(t, filepath.Join(sync, "started"))
	c.Signal(syscall.SIGTERM)
	c.WaitLine("stopping gracefully")
	expect("/readyz", 503)
	expect("/healthz", 200)
	expect("/metrics", 200, "gowsgi_ready 0\n", `gowsgi_worker_threads{state="busy"} 1`+"\n")
	expect("/", 200, "Not ready", "GET /hold")
	os.WriteFile(filepath.Join(sync, "release"), nil, 0o644)
	if code := <-held; code != 200 {
		t.Errorf("the request in flight got %d; want 200", code)
	}
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d; want 0", status)
	}
}
