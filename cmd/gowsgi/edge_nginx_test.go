package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// streamModule is Debian's nginx stream module (libnginx-mod-stream).
const streamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"

// TestProxyProtocolNginx puts nginx's stream proxy, with proxy_protocol
// on, in front of serve --proxy-protocol: the app's REMOTE_PORT is the
// port of the client's connection to nginx, not of nginx's to the server.
func TestProxyProtocolNginx(t *testing.T) {
	needPython(t)
	nginx := "/usr/sbin/nginx"
	if _, err := os.Stat(nginx); err != nil {
		t.Skip("no nginx: install Debian's nginx-light (scripts/install-deps does)")
	}
	if _, err := os.Stat(streamModule); err != nil {
		t.Skip("no nginx stream module: install Debian's libnginx-mod-stream (scripts/install-deps does)")
	}
	t.Parallel()
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--proxy-protocol", "apps:environ")
	upstream := c.Addr()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := fmt.Sprintf(`load_module %[1]s;
daemon off;
master_process off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 64; }
stream {
    server {
        listen %[3]s;
        proxy_pass %[4]s;
        proxy_protocol on;
    }
}
`, streamModule, dir, front, upstream)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	proctest.Start(t, cmd)
	proctest.Eventually(t, timeout, "nginx listening on "+front, func() bool {
		conn, err := net.DialTimeout("tcp", front, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	conn, err := net.DialTimeout("tcp", front, timeout)
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(conn.LocalAddr().(*net.TCPAddr).Port)
	status, body := rawRequest(t, conn, nil, "/through-nginx")
	if status != 200 || !strings.Contains(body, "REMOTE_ADDR=127.0.0.1\n") || !strings.Contains(body, "REMOTE_PORT="+port+"\n") {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Errorf("through nginx: %d, environ:\n%s\nwant REMOTE_PORT=%s (the client's); nginx's error log:\n%s", status, body, port, b)
	}
}
