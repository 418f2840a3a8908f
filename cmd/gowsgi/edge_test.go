package main

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
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

	"github.com/gowsgi/gowsgi/internal/testcert"
)

// The tests of edge.go use /usr/bin/python3 (debianPython) for the workers.

// TestAccessLogFormat serves with gunicorn's access_log_format and checks
// the line of a request through the real server and a Python worker.
func TestAccessLogFormat(t *testing.T) {
	needPython(t)
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "access.log")
	format := `%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(m)s %(U)s %(q)s %(H)s ` +
		`%({x-test}i)s %({content-type}o)s %({wsgi.url_scheme}e)s %(p)s %%`
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--access-logformat", format, "--access-logfile", logFile, "apps:hello")
	addr := c.Addr()
	req, _ := http.NewRequest("GET", "http://"+addr+"/p%20q?x=1", nil)
	req.Header.Set("X-Test", `say "hi"`)
	req.Header.Set("User-Agent", "tester/1")
	req.SetBasicAuth("bob", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Fatalf("exit status %d", status)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	want := `127.0.0.1 - bob "GET /p%20q?x=1 HTTP/1.1" 200 ` + strconv.Itoa(len(body)) + ` "-" "tester/1" GET /p q x=1 HTTP/1.1 ` +
		`say \"hi\" ` + resp.Header.Get("Content-Type") + ` http <` + strconv.Itoa(c.Pid()) + "> %\n"
	if string(data) != want {
		t.Errorf("access log:\n%q\nwant\n%q", data, want)
	}
}

// TestEdgeFlagErrors checks that a bad value of the edge flags is one
// line of error naming the flag, before anything starts.
func TestEdgeFlagErrors(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "server")
	os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("nothing"), 0o644)
	tlsFlags := []string{"--certfile", filepath.Join(dir, "cert.pem"), "--keyfile", filepath.Join(dir, "key.pem")}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--access-logformat", "%(h)s %d"}, "--access-logformat"},
		{[]string{"--proxy-protocol=v3"}, "--proxy-protocol"},
		{[]string{"--proxy-protocol", "--proxy-allow-from", "10.0.0.0/33"}, "--proxy-allow-from"},
		{[]string{"--cert-reqs", "3"}, "--cert-reqs"},
		{[]string{"--ca-certs", filepath.Join(dir, "cert.pem")}, "need --certfile"},
		{append([]string{"--ca-certs", filepath.Join(dir, "missing.pem")}, tlsFlags...), "--ca-certs"},
		{append([]string{"--ca-certs", filepath.Join(dir, "empty.pem")}, tlsFlags...), "no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"serve", "--python", debianPython, "-b", "127.0.0.1:0"}, tc.args...)
			_, stderr, status := runCLI(t, nil, append(args, "app:app")...)
			if status != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("status %d, stderr %q; want %d and one line naming %q", status, stderr, exitUsage, tc.want)
			}
		})
	}
}

// proxyV2 is a v2 PROXY header for a TCP connection from src to dst.
func proxyV2(src, dst *net.TCPAddr) []byte {
	h := []byte("\r\n\r\n\x00\r\nQUIT\n\x21")
	s, d := src.IP.To4(), dst.IP.To4()
	fam := byte(0x11)
	if s == nil {
		s, d, fam = src.IP.To16(), dst.IP.To16(), 0x21
	}
	h = append(h, fam)
	h = binary.BigEndian.AppendUint16(h, uint16(2*len(s)+4))
	h = append(append(h, s...), d...)
	h = binary.BigEndian.AppendUint16(h, uint16(src.Port))
	return binary.BigEndian.AppendUint16(h, uint16(dst.Port))
}

// rawGet writes header and a GET of path on a new connection to addr and
// returns the response's status and body.
func rawGet(t *testing.T, addr string, header []byte, path string) (int, string) {
	t.Helper()
	return rawRequest(t, rawDial(t, addr), header, path)
}

// rawRequest is rawGet's on the connection c, which it closes.
func rawRequest(t *testing.T, c net.Conn, header []byte, path string) (int, string) {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	resp := rawResponse(t, c, append(header, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"...))
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestProxyProtocol serves with --proxy-protocol: real clients writing v1
// and v2 headers are the app's REMOTE_ADDR and the access log's %(h)s,
// one without a header is itself, and a header from a peer that
// --proxy-allow-from does not name gets gunicorn's 403.
func TestProxyProtocol(t *testing.T) {
	needPython(t)
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "access.log")
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--proxy-protocol", "--access-logformat", "%(h)s %(U)s", "--access-logfile", logFile, "apps:environ")
	addr := c.Addr()
	dst := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
	cases := []struct {
		name, path string
		header     []byte
		host, port string
	}{
		{"v1", "/v1", []byte("PROXY TCP4 192.0.2.1 127.0.0.1 56324 8000\r\n"), "192.0.2.1", "56324"},
		{"v1 TCP6", "/v1-6", []byte("PROXY TCP6 2001:db8::1 ::1 7 8000\r\n"), "2001:db8::1", "7"},
		{"v2", "/v2", proxyV2(&net.TCPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 4000}, dst), "198.51.100.9", "4000"},
		{"v2 TCP6", "/v2-6", proxyV2(&net.TCPAddr{IP: net.ParseIP("2001:db8::9"), Port: 4001}, &net.TCPAddr{IP: net.IPv6loopback, Port: 8000}), "2001:db8::9", "4001"},
		{"none", "/none", nil, "127.0.0.1", ""},
	}
	var wantLog strings.Builder
	for _, tc := range cases {
		status, body := rawGet(t, addr, tc.header, tc.path)
		if status != 200 || !strings.Contains(body, "REMOTE_ADDR="+tc.host+"\n") || tc.port != "" && !strings.Contains(body, "REMOTE_PORT="+tc.port+"\n") {
			t.Errorf("%s: %d, environ:\n%s\nwant REMOTE_ADDR %s, REMOTE_PORT %s", tc.name, status, body, tc.host, tc.port)
		}
		wantLog.WriteString(tc.host + " " + tc.path + "\n")
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Fatalf("exit status %d", status)
	}
	if data, _ := os.ReadFile(logFile); string(data) != wantLog.String() {
		t.Errorf("access log:\n%s\nwant\n%s", data, wantLog.String())
	}

	// A peer that may not send a header.
	c = startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--proxy-protocol", "--proxy-allow-from", "10.0.0.0/8", "apps:environ")
	if status, body := rawGet(t, c.Addr(), []byte("PROXY TCP4 192.0.2.1 127.0.0.1 56324 8000\r\n"), "/"); status != 403 {
		t.Errorf("a header from a peer not allowed: %d %q; want 403", status, body)
	}
	if status, body := rawGet(t, c.Addr(), nil, "/"); status != 200 || !strings.Contains(body, "REMOTE_ADDR=127.0.0.1\n") {
		t.Errorf("no header from a peer not allowed: %d:\n%s", status, body)
	}
}

// certPair is a certificate and its key, as PEM files.
type certPair struct {
	cert     *x509.Certificate
	certFile string
	keyFile  string
	tlsCert  tls.Certificate
	pair     *testcert.Pair
}

// newPair makes a certificate for subject, signed by ca (self-signed if
// nil), a CA itself if isCA, and writes it and its key to dir.
func newPair(t *testing.T, dir, name string, subject pkix.Name, ca *certPair, isCA bool) *certPair {
	t.Helper()
	o := testcert.Options{IsCA: isCA}
	if ca != nil {
		o.CA = ca.pair
	}
	p := testcert.New(t, subject, o)
	certFile, keyFile := p.Write(t, dir, name)
	return &certPair{cert: p.Cert, certFile: certFile, keyFile: keyFile, tlsCert: p.TLS, pair: p}
}

// TestClientCert serves HTTPS with --ca-certs: a real TLS client with a
// certificate that CA signed gets its subject, issuer, serial and PEM in
// the environ; without one, or with another CA's, the handshake fails;
// with --cert-reqs 1 a client without one is served, SSL_CLIENT_VERIFY
// NONE.
func TestClientCert(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	ca := newPair(t, dir, "ca", pkix.Name{CommonName: "Test CA", Organization: []string{"Gowsgi"}}, nil, true)
	server := newPair(t, dir, "server", pkix.Name{CommonName: "server"}, ca, false)
	alice := newPair(t, dir, "alice", pkix.Name{CommonName: "alice", Organization: []string{"Example, Inc."}, Country: []string{"FR"}}, ca, false)
	other := newPair(t, dir, "other", pkix.Name{CommonName: "mallory"}, nil, true)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	// The client sends its certificate even if the server did not name
	// its CA as acceptable (Go's client would send none then).
	client := func(certs ...tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: roots}
		if len(certs) > 0 {
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
		}
		return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
	}
	serveArgs := func(extra ...string) []string {
		return append([]string{"serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
			"--certfile", server.certFile, "--keyfile", server.keyFile, "--ca-certs", ca.certFile}, append(extra, "apps:environ")...)
	}
	wantAlice := []string{
		"SSL_CLIENT_VERIFY=SUCCESS\n", `SSL_CLIENT_S_DN=CN=alice,O=Example\, Inc.,C=FR` + "\n", "SSL_CLIENT_S_DN_CN=alice\n",
		"SSL_CLIENT_I_DN=CN=Test CA,O=Gowsgi\n", "SSL_CLIENT_M_SERIAL=" + strings.ToUpper(alice.cert.SerialNumber.Text(16)) + "\n",
		"SSL_CLIENT_CERT=-----BEGIN CERTIFICATE-----\n", "HTTPS=on\n", "wsgi.url_scheme=https\n",
	}

	c := startCLI(t, nil, serveArgs()...) // --cert-reqs 2 by default
	url := "https://" + c.Addr() + "/"
	resp, body, err := fetch(t, client(alice.tlsCert), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("proto %s; want HTTP/2.0", resp.Proto)
	}
	for _, want := range wantAlice {
		if !strings.Contains(body, want) {
			t.Errorf("environ lacks %q:\n%s", want, body)
		}
	}
	if _, _, err := fetch(t, client(), url, nil); err == nil {
		t.Error("a client without a certificate was served; want the handshake refused")
	}
	if _, _, err := fetch(t, client(other.tlsCert), url, nil); err == nil {
		t.Error("a client with another CA's certificate was served")
	}

	c = startCLI(t, nil, serveArgs("--cert-reqs", "1")...)
	url = "https://" + c.Addr() + "/"
	if _, body, err := fetch(t, client(), url, nil); err != nil || !strings.Contains(body, "SSL_CLIENT_VERIFY=NONE\n") || strings.Contains(body, "SSL_CLIENT_S_DN") {
		t.Errorf("--cert-reqs 1 without a certificate: %v:\n%s", err, body)
	}
	if _, body, err := fetch(t, client(alice.tlsCert), url, nil); err != nil || !strings.Contains(body, wantAlice[1]) || !strings.Contains(body, wantAlice[0]) {
		t.Errorf("--cert-reqs 1 with a certificate: %v:\n%s", err, body)
	}
	if _, _, err := fetch(t, client(other.tlsCert), url, nil); err == nil {
		t.Error("--cert-reqs 1: a client with another CA's certificate was served")
	}

	c = startCLI(t, nil, serveArgs("--cert-reqs", "0")...)
	if _, body, err := fetch(t, client(alice.tlsCert), "https://"+c.Addr()+"/", nil); err != nil || !strings.Contains(body, "SSL_CLIENT_VERIFY=NONE\n") {
		t.Errorf("--cert-reqs 0: %v:\n%s", err, body)
	}
}

// TestProxyProtocolTLS sends a v2 PROXY header before the TLS handshake,
// as a TCP load balancer passing TLS through does, with a client
// certificate: the app sees the header's client and the certificate's
// subject; GOWSGI_PROXY_PROTOCOL turns it on as the flag does.
func TestProxyProtocolTLS(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	ca := newPair(t, dir, "ca", pkix.Name{CommonName: "Test CA"}, nil, true)
	server := newPair(t, dir, "server", pkix.Name{CommonName: "server"}, ca, false)
	alice := newPair(t, dir, "alice", pkix.Name{CommonName: "alice"}, ca, false)
	c := startCLI(t, []string{"GOWSGI_PROXY_PROTOCOL=v2"}, "serve", "-b", "127.0.0.1:0", "--python", debianPython,
		"--chdir", "testdata", "-w", "1", "--certfile", server.certFile, "--keyfile", server.keyFile,
		"--ca-certs", ca.certFile, "apps:environ")
	conn, err := net.DialTimeout("tcp", c.Addr(), timeout)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	src := &net.TCPAddr{IP: net.ParseIP("2001:db8::77"), Port: 6000}
	if _, err := conn.Write(proxyV2(src, &net.TCPAddr{IP: net.IPv6loopback, Port: 443})); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	tc := tls.Client(conn, &tls.Config{ServerName: "127.0.0.1", RootCAs: roots, Certificates: []tls.Certificate{alice.tlsCert}})
	status, body := rawRequest(t, tc, nil, "/")
	for _, want := range []string{"REMOTE_ADDR=2001:db8::77\n", "REMOTE_PORT=6000\n", "SSL_CLIENT_S_DN=CN=alice\n", "SSL_CLIENT_VERIFY=SUCCESS\n"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("%d: environ lacks %q:\n%s", status, want, body)
		}
	}
}

// TestClientCertReload replaces the --ca-certs file and sends SIGHUP:
// connections after it verify against the new CAs; a file without a
// certificate is refused and the current CAs serve on.
func TestClientCertReload(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	ca1 := newPair(t, dir, "ca1", pkix.Name{CommonName: "CA one"}, nil, true)
	ca2 := newPair(t, dir, "ca2", pkix.Name{CommonName: "CA two"}, nil, true)
	server := newPair(t, dir, "server", pkix.Name{CommonName: "server"}, ca1, false)
	alice := newPair(t, dir, "alice", pkix.Name{CommonName: "alice"}, ca1, false)
	bob := newPair(t, dir, "bob", pkix.Name{CommonName: "bob"}, ca2, false)
	caFile := filepath.Join(dir, "clients.pem")
	copyFile := func(from string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(caFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(ca1.certFile)
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--certfile", server.certFile, "--keyfile", server.keyFile, "--ca-certs", caFile, "apps:environ")
	url := "https://" + c.Addr() + "/"
	roots := x509.NewCertPool()
	roots.AddCert(ca1.cert)
	get := func(p *certPair) (string, error) {
		// A new connection each time, sending its certificate whatever
		// the server names as acceptable.
		tr := &http.Transport{DisableKeepAlives: true, ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: roots,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &p.tlsCert, nil }}}
		defer tr.CloseIdleConnections()
		_, body, err := fetch(t, &http.Client{Transport: tr, Timeout: timeout}, url, nil)
		return body, err
	}
	if body, err := get(alice); err != nil || !strings.Contains(body, "SSL_CLIENT_S_DN=CN=alice\n") {
		t.Fatalf("alice before the reload: %v\n%s", err, body)
	}
	if _, err := get(bob); err == nil {
		t.Error("bob (CA two) served before the reload")
	}

	copyFile(ca2.certFile)
	c.Signal(syscall.SIGHUP)
	c.WaitLine("TLS certificate reloaded")
	if body, err := get(bob); err != nil || !strings.Contains(body, "SSL_CLIENT_I_DN=CN=CA two\n") {
		t.Errorf("bob after the reload: %v\n%s", err, body)
	}
	if _, err := get(alice); err == nil {
		t.Error("alice (CA one) served after the reload to CA two")
	}

	os.WriteFile(caFile, []byte("no certificate"), 0o600)
	c.Signal(syscall.SIGHUP)
	c.WaitLine("TLS certificate not reloaded", "no PEM certificate")
	if _, err := get(bob); err != nil {
		t.Errorf("bob after a bad CA file: %v", err)
	}
}
