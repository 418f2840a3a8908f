package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

// A cli is a running gowsgi command whose stderr is collected line by line.
type cli struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{} // closed when the command has exited and stderr is read
	err  error         // from Wait, once done

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

// startCLI runs "gowsgi args..." with the extra environment env. The
// process is killed when the test ends.
func startCLI(t *testing.T, env []string, args ...string) *cli {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	return startCmd(t, cmd)
}

// startCmd starts cmd, which runs the gowsgi command (as startCLI makes
// it), and kills it when the test ends.
func startCmd(t *testing.T, cmd *exec.Cmd) *cli {
	t.Helper()
	args := cmd.Args[1:]
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("gowsgi %s stderr:\n%s", strings.Join(args, " "), c.stderr())
		}
	})
	return c
}

func (c *cli) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// waitLine waits for a stderr line containing s and returns it.
func (c *cli) waitLine(s string) string {
	c.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := 0; ; {
		c.mu.Lock()
		lines, changed := c.lines, c.changed
		c.mu.Unlock()
		for ; i < len(lines); i++ {
			if strings.Contains(lines[i], s) {
				return lines[i]
			}
		}
		select {
		case <-changed:
		case <-c.done:
			c.mu.Lock()
			n := len(c.lines) // final: done is closed after the last line
			c.mu.Unlock()
			if n > i {
				continue
			}
			c.t.Fatalf("gowsgi exited (%v) without logging %q", c.err, s)
		case <-deadline.C:
			c.t.Fatalf("gowsgi did not log %q within %v", s, timeout)
		}
	}
}

// addr waits for the command to log where it listens and returns that.
func (c *cli) addr() string {
	c.t.Helper()
	line := c.waitLine("msg=listening")
	_, addr, ok := strings.Cut(line, "addr=")
	if !ok {
		c.t.Fatalf("no addr= in %q", line)
	}
	addr, _, _ = strings.Cut(addr, " ")
	return addr
}

// wait waits for the command to exit and returns its exit status.
func (c *cli) wait() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.t.Fatalf("gowsgi did not exit within %v", timeout)
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		c.t.Fatal(c.err)
	}
	return 0
}

func (c *cli) signal(sig syscall.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
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
