// Package adapter_test runs the adapter's examples as a user would: it
// builds each Go handler as a shared library and serves it from Python.
package adapter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

const python = "/usr/bin/python3"

// build builds the example in dir as a shared library.
func build(t *testing.T, dir string) string {
	t.Helper()
	so := filepath.Join(t.TempDir(), dir+".so")
	if out, err := exec.Command("go", "build", "-buildmode=c-shared", "-o", so, "./"+dir).CombinedOutput(); err != nil {
		t.Fatalf("go build -buildmode=c-shared ./%s: %v\n%s", dir, err, out)
	}
	return so
}

// serve runs argv in dir with env and returns its base URL once it answers.
func serve(t *testing.T, dir string, argv []string, env ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], "PORT", port)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "PORT="+port, "HOST=127.0.0.1", "PYTHONDONTWRITEBYTECODE=1")...)
	log := new(bytes.Buffer) // one writer for both: exec copies it from one pipe
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("%v:\n%s", argv, log)
		}
	})
	proctest.Poll(t, 20*time.Second, fmt.Sprintf("%v to serve", argv), func() (error, bool) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil, true
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%v not serving: %v", argv, err)
		}
		return err, false
	})
	return "http://" + addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func needModules(t *testing.T, modules ...string) {
	for _, m := range modules {
		if err := exec.Command(python, "-c", "import "+m).Run(); err != nil {
			t.Skipf("Python module %s missing under %s: install its Debian package", m, python)
		}
	}
}

// TestHello is the seed's example: Hello, world from wsgiref.
func TestHello(t *testing.T) {
	t.Parallel()
	needModules(t, "wsgiref")
	so := build(t, "hello")
	url := serve(t, "hello", []string{python, "serve.py"}, "GOWSGI_LIB="+so)
	if code, body := get(t, url+"/"); code != 200 || body != "Hello, world" {
		t.Errorf("GET / = %d %q, want 200 Hello, world", code, body)
	}
	if code, _ := get(t, url+"/other"); code != 404 {
		t.Errorf("GET /other = %d, want 404", code)
	}
}

// TestFlask mounts a Go handler at /go of a Flask site under gunicorn.
func TestFlask(t *testing.T) {
	t.Parallel()
	needModules(t, "flask", "werkzeug", "gunicorn")
	so := build(t, "flask")
	url := serve(t, "flask", []string{python, "-m", "gunicorn", "-b", "127.0.0.1:PORT", "-k", "gthread", "--threads", "4", "app:application"}, "GOWSGI_LIB="+so)
	if code, body := get(t, url+"/"); code != 200 || !strings.HasPrefix(body, "Hello from Flask") {
		t.Errorf("GET / = %d %q, want Flask's page", code, body)
	}
	code, body := get(t, url+"/go/hello?name=Ada")
	var got map[string]string
	json.Unmarshal([]byte(body), &got)
	if code != 200 || got["greeting"] != "Hello, Ada, from Go" || got["mountedAt"] != "/go" {
		t.Errorf("GET /go/hello = %d %q", code, body)
	}
	resp, err := http.Post(url+"/go/upper", "text/plain", strings.NewReader("shout"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "SHOUT" {
		t.Errorf("POST /go/upper = %q, want SHOUT", b)
	}
	if code, _ := get(t, url+"/go/nowhere"); code != 404 {
		t.Errorf("GET /go/nowhere = %d, want Go's 404", code)
	}
}
