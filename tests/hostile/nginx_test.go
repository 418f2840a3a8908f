package hostile

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNginx runs nginx in the foreground, one process, with
// deploy/nginx.conf listening on port and proxying to upstreams, and
// stops it when the test ends.
func startNginx(t *testing.T, port int, upstreams [2]int) {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, err := os.Stat(p); err == nil {
				nginx = p
			}
		}
	}
	if nginx == "" {
		t.Skip("no nginx: install Debian's nginx-light (scripts/install-deps does)")
	}
	site, err := os.ReadFile("../../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(site)
	for old, new := range map[string]string{
		"listen 80;":     fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"127.0.0.1:8001": fmt.Sprintf("127.0.0.1:%d", upstreams[0]),
		"127.0.0.1:8002": fmt.Sprintf("127.0.0.1:%d", upstreams[1]),
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("deploy/nginx.conf has no %q", old)
		}
		conf = strings.ReplaceAll(conf, old, new)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The main configuration around it, all of nginx's files in dir.
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	out, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			for _, f := range []string{"stderr", "error.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				t.Logf("nginx %s:\n%s", f, b)
			}
		}
	})
	if !eventually(timeout, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatal("nginx does not listen")
	}
}

// TestRollingRestartBehindNginx: two instances behind nginx with
// deploy/nginx.conf, under 8 keep-alive clients, are restarted one after
// the other (SIGTERM, wait for the exit, start again, wait until nginx
// sends it requests, as deploy/nginx.conf says): not one request fails.
func TestRollingRestartBehindNginx(t *testing.T) {
	needPython(t)
	ports := [2]int{freePort(t), freePort(t)}
	front := freePort(t)
	logs := t.TempDir()
	var accessLog [2]string
	startInstance := func(i int) *server {
		accessLog[i] = filepath.Join(logs, fmt.Sprintf("access-%d-%d.log", i, time.Now().UnixNano()))
		s := startServer(t, nil, nil, "--python", debianPython, "--chdir", appsDir(t),
			"--bind", fmt.Sprintf("127.0.0.1:%d", ports[i]), "--workers", "2", "--graceful-timeout", "10",
			"--access-log", "common", "--access-logfile", accessLog[i], "app:app")
		s.Addr()
		return s
	}
	// inRotation waits until nginx sends instance i requests again.
	inRotation := func(i int) {
		t.Helper()
		if !eventually(timeout, func() bool {
			fi, err := os.Stat(accessLog[i])
			return err == nil && fi.Size() > 0
		}) {
			t.Fatalf("nginx sends instance %d no requests", i)
		}
	}
	instances := [2]*server{startInstance(0), startInstance(1)}
	startNginx(t, front, ports)
	url := fmt.Sprintf("http://127.0.0.1:%d/sleep?0.005", front)

	ctx, cancel := context.WithCancel(context.Background())
	statsc := make(chan *loadStats)
	go func() { statsc <- load(ctx, 8, url) }()
	inRotation(0)
	inRotation(1)
	for i := range instances {
		start := time.Now()
		instances[i].Signal(syscall.SIGTERM)
		instances[i].Wait() // whatever the status
		stopped := time.Since(start)
		instances[i] = startInstance(i)
		serving := time.Since(start)
		inRotation(i)
		t.Logf("instance %d: stopped in %v, serving again after %v, back in nginx's rotation after %v", i,
			stopped.Round(time.Millisecond), serving.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}
	cancel()
	stats := <-statsc
	t.Logf("through nginx: %v", stats)
	if stats.failures() > 0 {
		t.Errorf("requests failed during the rolling restart: %v", stats)
	}
	if stats.ok.Load() < 100 {
		t.Errorf("only %d requests served", stats.ok.Load())
	}
	for i, s := range instances {
		if n := s.Count("msg=listening"); n != 1 || s.Exited() {
			t.Errorf("instance %d is not serving", i)
		}
	}
}
