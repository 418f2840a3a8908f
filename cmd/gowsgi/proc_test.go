package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// The tests run the command by running the test binary again with
// runMainEnv set, as net/http/cgi's tests do.
const runMainEnv = "GOWSGI_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// debianPython is the interpreter the tests use.
const debianPython = "/usr/bin/python3"

// timeout bounds every wait in the tests.
const timeout = 20 * time.Second

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("no %s: %v", debianPython, err)
	}
}

// startCLI runs "gowsgi args..." with the extra environment env. The
// process is killed when the test ends.
func startCLI(t *testing.T, env []string, args ...string) *proctest.Process {
	t.Helper()
	return startCLIIn(t, "", env, args...)
}

// startCLIIn runs "gowsgi args..." in dir ("": the test's), as startCLI.
func startCLIIn(t *testing.T, dir string, env []string, args ...string) *proctest.Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	return proctest.Start(t, cmd)
}

// unixClient returns an HTTP client that connects to the unix socket path
// whatever the URL's host.
func unixClient(path string) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// rawDial opens a TCP connection to addr, for a request written by hand.
func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawResponse writes data, a request as sent, on c and reads the head of
// its response; the caller reads and closes the body.
func rawResponse(t *testing.T, c net.Conn, data []byte) *http.Response {
	t.Helper()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp
}

// getLater fetches url in the background; the channel gets the status
// code once the response has come, 0 if the request failed.
func getLater(url string) <-chan int {
	code := make(chan int, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			code <- 0
			return
		}
		resp.Body.Close()
		code <- resp.StatusCode
	}()
	return code
}

// get fetches url with client and returns the status code and body.
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}
