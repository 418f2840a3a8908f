package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
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

// writeCert writes a self-signed certificate for 127.0.0.1 named cn, and
// its key, as cert.pem and key.pem in dir, and returns it.
func writeCert(t *testing.T, dir, cn string) *x509.Certificate {
	t.Helper()
	p := newPair(t, dir, ".new-"+cn, pkix.Name{CommonName: cn}, nil, true)
	// The key first, each file whole (a rename): a reload between the
	// two reads a mismatched pair, which is refused.
	for _, mv := range [][2]string{{p.keyFile, "key.pem"}, {p.certFile, "cert.pem"}} {
		if err := os.Rename(mv[0], filepath.Join(dir, mv[1])); err != nil {
			t.Fatal(err)
		}
	}
	return p.cert
}

// h2Client returns a client that speaks HTTP/2 over TLS, trusting certs.
func h2Client(certs ...*x509.Certificate) (*http.Client, *http.Transport) {
	roots := x509.NewCertPool()
	for _, c := range certs {
		roots.AddCert(c)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	return &http.Client{Transport: tr, Timeout: timeout}, tr
}

// fetch does GET url with header and returns the response and its body.
func fetch(t *testing.T, client *http.Client, url string, header map[string]string) (*http.Response, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// TestTLS serves HTTPS: an HTTP/2 client gets HTTP/2, the app sees https
// and HTTP/2.0, and after SIGHUP new connections get the new certificate.
func TestTLS(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	first := writeCert(t, dir, "first")
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--certfile", filepath.Join(dir, "cert.pem"), "--keyfile", filepath.Join(dir, "key.pem"), "apps:environ")
	url := "https://" + c.Addr() + "/"
	client, tr := h2Client(first)
	resp, body, err := fetch(t, client, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Proto != "HTTP/2.0" || resp.TLS.PeerCertificates[0].Subject.CommonName != "first" {
		t.Errorf("got %s with certificate %q; want HTTP/2.0 with %q", resp.Proto, resp.TLS.PeerCertificates[0].Subject.CommonName, "first")
	}
	for _, want := range []string{"SERVER_PROTOCOL=HTTP/2.0\n", "wsgi.url_scheme=https\n", "SERVER_PORT=" + url[strings.LastIndex(url, ":")+1:len(url)-1] + "\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("environ lacks %q:\n%s", want, body)
		}
	}
	// HTTP/1.1 over TLS still works.
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs}}, Timeout: timeout}
	if resp, body, err := fetch(t, h1, url, nil); err != nil || resp.Proto != "HTTP/1.1" || !strings.Contains(body, "SERVER_PROTOCOL=HTTP/1.1\n") {
		t.Errorf("HTTP/1.1 over TLS: %v %v", resp, err)
	}

	second := writeCert(t, dir, "second")
	c.Signal(syscall.SIGHUP)
	c.WaitLine("TLS certificate reloaded")
	tr.CloseIdleConnections()
	client, _ = h2Client(first, second)
	resp, _, err = fetch(t, client, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != "second" {
		t.Errorf("after SIGHUP the certificate is %q; want %q", cn, "second")
	}

	// A bad pair is refused and the current one serves on.
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Signal(syscall.SIGHUP)
	c.WaitLine("TLS certificate not reloaded: the old one serves on")
	client, _ = h2Client(second)
	if _, _, err := fetch(t, client, url, nil); err != nil {
		t.Errorf("after a bad certificate: %v", err)
	}
}

// TestH2C checks that HTTP/2 without TLS (prior knowledge) is served with
// --h2c and refused without it.
func TestH2C(t *testing.T) {
	needPython(t)
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			t.Parallel()
			args := []string{"serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1", "apps:environ"}
			if on {
				args = append(args, "--h2c")
			}
			c := startCLI(t, nil, args...)
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true)
			defer tr.CloseIdleConnections()
			resp, body, err := fetch(t, &http.Client{Transport: tr, Timeout: timeout}, "http://"+c.Addr()+"/", nil)
			switch {
			case on && (err != nil || resp.Proto != "HTTP/2.0" || !strings.Contains(body, "SERVER_PROTOCOL=HTTP/2.0\n")):
				t.Errorf("with --h2c: %v, %v:\n%s", resp, err, body)
			case !on && err == nil:
				t.Errorf("without --h2c, an h2c request got %s", resp.Proto)
			}
		})
	}
}

// TestHeaderLimit checks that headers past --limit-request-fields-size
// get 431, and those within pass.
func TestHeaderLimit(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--limit-request-fields-size", "8K", "apps:hello")
	url := "http://" + c.Addr() + "/"
	cases := []struct {
		size, code int
	}{
		{4 << 10, 200},
		{32 << 10, 431},
	}
	for _, tc := range cases {
		resp, _, err := fetch(t, http.DefaultClient, url, map[string]string{"X-Big": strings.Repeat("x", tc.size)})
		if err != nil {
			t.Fatalf("a %d-byte header: %v", tc.size, err)
		}
		if resp.StatusCode != tc.code {
			t.Errorf("a %d-byte header: %s; want %d", tc.size, resp.Status, tc.code)
		}
	}
}

// TestSocketActivation passes a listening socket as fd 3, as systemd does
// (LISTEN_FDS and LISTEN_PID, the latter set by the shell that execs the
// command so that it is the command's pid), and as --bind fd://3.
func TestSocketActivation(t *testing.T) {
	needPython(t)
	cases := []struct {
		name    string
		systemd bool
		args    []string
	}{
		{"LISTEN_FDS", true, nil},
		{"bind fd", false, []string{"--bind", "fd://3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			f, err := l.(*net.TCPListener).File()
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			args := append([]string{"serve", "--python", debianPython, "--chdir", "testdata", "-w", "1", "apps:hello"}, tc.args...)
			script := `exec "$@"`
			if tc.systemd {
				script = `LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"`
			}
			cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh", os.Args[0]}, args...)...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			cmd.ExtraFiles = []*os.File{f}
			c := proctest.Start(t, cmd)
			f.Close() // the command has its copy
			if got := c.Addr(); got != addr {
				t.Errorf("listening on %s; want the inherited %s", got, addr)
			}
			if code, body := get(t, http.DefaultClient, "http://"+addr+"/"); code != 200 || body != "Hello world!\n" {
				t.Errorf("GET: %d %q", code, body)
			}
			c.Signal(syscall.SIGTERM)
			if status := c.Wait(); status != 0 {
				t.Errorf("exit status %d", status)
			}
		})
	}
}

// TestConnTimeouts checks that the server closes a connection whose
// headers do not arrive within --header-timeout, and a keep-alive
// connection idle for --keep-alive.
func TestConnTimeouts(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "1", "--header-timeout", "0.3", "--keep-alive", "0.3", "apps:hello")
	addr := c.Addr()
	cases := []struct {
		name, send string
	}{
		{"headers too slow", "GET / HTTP/1.1\r\nHost: x\r\n"},
		{"idle keep-alive", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
	}
	for _, tc := range cases {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		conn.SetDeadline(start.Add(timeout))
		if _, err := io.WriteString(conn, tc.send); err != nil {
			t.Fatal(err)
		}
		// Whatever the server answers, it must then close.
		b, err := io.ReadAll(conn)
		if err != nil {
			t.Errorf("%s: the server did not close the connection: %v", tc.name, err)
		}
		if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
			t.Errorf("%s: closed after %v, before the timeout", tc.name, elapsed)
		}
		if tc.name == "idle keep-alive" && !strings.HasPrefix(string(b), "HTTP/1.1 200 OK") {
			t.Errorf("%s: got %q", tc.name, b)
		}
	}
}
