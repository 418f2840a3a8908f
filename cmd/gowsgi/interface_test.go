package main

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestServeASGI: the production flags with an ASGI app (testdata's
// asgiapps:app), each on its own server.
func TestServeASGI(t *testing.T) {
	needPython(t)
	static := t.TempDir()
	if err := os.WriteFile(filepath.Join(static, "a.txt"), []byte("static file"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		path string
		want string // a regexp of the body
	}{
		{"auto", nil, "/x", `^pid=\d+ http=1.1 scheme=http path=/x root= state=lifespan-\d+ `},
		{"explicit", []string{"--interface", "asgi"}, "/x", `path=/x `},
		{"gunicorn's uvicorn worker", []string{"-k", "uvicorn.workers.UvicornWorker"}, "/x", `path=/x `},
		{"prefix", []string{"--prefix", "/app"}, "/app/x", `path=/app/x root=/app `},
		{"preload", []string{"--preload", "-w", "2"}, "/p", `state=lifespan-\d+ `},
		{"static", []string{"--static", "/static=" + static}, "/static/a.txt", `^static file$`},
		{"access log", []string{"--access-log", "common", "--access-logfile", filepath.Join(static, "access.log")}, "/logged", `path=/logged `},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1"}
			c := startCLI(t, nil, append(append(args, tc.args...), "asgiapps:app")...)
			code, body := get(t, http.DefaultClient, "http://"+c.Addr()+tc.path)
			if code != 200 || !regexp.MustCompile(tc.want).MatchString(body) {
				t.Errorf("GET %s: %d %q; want 200 and %s", tc.path, code, body, tc.want)
			}
			if tc.name == "access log" {
				proctest.Eventually(t, timeout, "the access log line", func() bool {
					b, _ := os.ReadFile(filepath.Join(static, "access.log"))
					return strings.Contains(string(b), `"GET /logged HTTP/1.1" 200`)
				})
			}
			c.Signal(syscall.SIGTERM)
			if status := c.Wait(); status != 0 {
				t.Errorf("exit status %d after SIGTERM; want 0", status)
			}
			if !strings.Contains(c.Stderr(), "serving ASGI app") {
				t.Errorf("no 'serving ASGI app' in the log:\n%s", c.Tail(20))
			}
			explicit := slices.Contains(tc.args, "--interface") || slices.Contains(tc.args, "-k")
			if probed := strings.Contains(c.Stderr(), "interface detected"); probed == explicit {
				t.Errorf("with %q the app's interface was probed: %v", tc.args, probed)
			}
		})
	}
}

// TestASGIMaxRequests: --max-requests counts streams; replacements run
// lifespan afresh, and no request fails.
func TestASGIMaxRequests(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--max-requests", "3", "asgiapps:app")
	pids := map[string]bool{}
	pid := regexp.MustCompile(`pid=(\d+)`)
	for range 10 {
		code, body := get(t, http.DefaultClient, "http://"+c.Addr()+"/")
		if code != 200 {
			t.Fatalf("GET /: %d %q", code, body)
		}
		pids[pid.FindStringSubmatch(body)[1]] = true
	}
	if len(pids) < 3 {
		t.Errorf("10 requests with --max-requests 3 were served by %d workers, want at least 3", len(pids))
	}
}

// TestASGITimeout: a request whose app sends nothing for --timeout gets 504.
func TestASGITimeout(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--timeout", "0.5", "asgiapps:app")
	if code, _ := get(t, http.DefaultClient, "http://"+c.Addr()+"/sleep?30"); code != http.StatusGatewayTimeout {
		t.Errorf("GET /sleep: %d, want 504", code)
	}
}

// TestASGIStartupFailed: lifespan.startup.failed exits with the import
// error's status, once, with the message.
func TestASGIStartupFailed(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "2", "--interface", "asgi", "asgiapps:startup_fails")
	if status := c.Wait(); status != exitLoadError {
		t.Errorf("exit status %d; want %d", status, exitLoadError)
	}
	if !strings.Contains(c.Stderr(), "cannot reach the database") {
		t.Errorf("stderr lacks the startup.failed message:\n%s", c.Tail(10))
	}
}

// TestASGIProbeImportError: --interface auto on an app that does not
// import exits 4 with the traceback, as a worker's import would.
func TestASGIProbeImportError(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"broken:application")
	if status := c.Wait(); status != exitLoadError {
		t.Errorf("exit status %d; want %d", status, exitLoadError)
	}
	if !strings.Contains(c.Stderr(), "ModuleNotFoundError") {
		t.Errorf("stderr lacks the traceback:\n%s", c.Tail(10))
	}
}

// TestASGIHTTP2: over TLS and over h2c, the app sees http_version "2".
func TestASGIHTTP2(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	cert := writeCert(t, dir, "asgi")
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--certfile", filepath.Join(dir, "cert.pem"), "--keyfile", filepath.Join(dir, "key.pem"), "asgiapps:app")
	client, _ := h2Client(cert)
	resp, body, err := fetch(t, client, "https://"+c.Addr()+"/tls", nil)
	if err != nil || resp.Proto != "HTTP/2.0" || !strings.Contains(body, "http=2 scheme=https path=/tls ") {
		t.Errorf("HTTP/2 over TLS: %v %v %q", resp, err, body)
	}
	h2c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--h2c", "asgiapps:app")
	tr := &http.Transport{Protocols: new(http.Protocols), TLSClientConfig: &tls.Config{}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	resp, body, err = fetch(t, &http.Client{Transport: tr, Timeout: timeout}, "http://"+h2c.Addr()+"/h2c", nil)
	if err != nil || resp.Proto != "HTTP/2.0" || !strings.Contains(body, "http=2 scheme=http path=/h2c ") {
		t.Errorf("h2c: %v %v %q", resp, err, body)
	}
}

// TestASGIAdminReload: --admin's metrics and readiness come from the ASGI
// container's Stats, and SIGHUP reloads its workers (lifespan afresh).
func TestASGIAdminReload(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--admin", "127.0.0.1:0", "asgiapps:app")
	line := c.WaitLine("admin listening")
	_, admin, _ := strings.Cut(line, "addr=")
	addr := "http://" + c.Addr()
	_, before := get(t, http.DefaultClient, addr+"/")
	for path, want := range map[string]string{"/readyz": "", "/metrics": "gowsgi_ready 1\n"} {
		if code, body := get(t, http.DefaultClient, "http://"+admin+path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("admin %s: %d %q", path, code, body)
		}
	}
	c.Signal(syscall.SIGHUP)
	c.WaitLine("msg=reloaded")
	_, after := get(t, http.DefaultClient, addr+"/")
	pid := regexp.MustCompile(`pid=\d+`)
	if pid.FindString(before) == pid.FindString(after) {
		t.Errorf("the same worker before and after SIGHUP: %q, %q", before, after)
	}
}
