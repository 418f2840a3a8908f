package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServe(t *testing.T) {
	needPython(t)
	cases := []struct {
		name string
		args []string
		path string
		code int
		want string
	}{
		{"hello", []string{"apps:hello"}, "/", 200, "Hello world!\n"},
		{"app last", []string{"--workers", "1", "apps:where", "--threads", "2"}, "/a/b", 200, "|/a/b|"},
		{"env", []string{"-e", "GREETING=hi there", "apps:where"}, "/", 200, "|/|hi there"},
		{"prefix", []string{"--prefix", "/app", "apps:where"}, "/app/x", 200, "/app|/x|"},
		{"outside prefix", []string{"--prefix", "/app", "apps:where"}, "/apple", 404, ""},
		{"pythonpath", []string{"--chdir", "/", "--pythonpath", "/nonexistent," + abs(t, "testdata"), "apps:hello"}, "/", 200, "Hello world!\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1"}
			c := startCLI(t, nil, append(args, tc.args...)...)
			code, body := get(t, http.DefaultClient, "http://"+c.Addr()+tc.path)
			if code != tc.code || (tc.want != "" && body != tc.want) {
				t.Errorf("GET %s: %d %q; want %d %q", tc.path, code, body, tc.code, tc.want)
			}
			c.Signal(syscall.SIGTERM)
			if status := c.Wait(); status != 0 {
				t.Errorf("exit status %d after SIGTERM; want 0", status)
			}
		})
	}
}

func abs(t *testing.T, path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStartupLog checks that the log says which Python runs which app with
// how many workers and threads, and where it listens.
func TestStartupLog(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "2", "--threads", "3", "apps:hello")
	c.Addr()
	line := c.WaitLine("serving WSGI app")
	for _, want := range []string{"app=apps:hello", "python=" + debianPython, "version=\"CPython 3.", "workers=2", "threads=3"} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up log %q lacks %q", line, want)
		}
	}
}

// TestGracefulStop sends SIGTERM while a request is in flight: the request
// completes, new connections are refused, and the command exits 0.
func TestGracefulStop(t *testing.T) {
	needPython(t)
	t.Parallel()
	sync := t.TempDir()
	c := startCLI(t, []string{"SYNC_DIR=" + sync}, "serve", "--bind", "127.0.0.1:0",
		"--python", debianPython, "--chdir", "testdata", "-w", "1", "apps:slow")
	addr := c.Addr()

	type result struct {
		code int
		body string
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Error(err)
			res <- result{}
			return
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		res <- result{resp.StatusCode, b.String()}
	}()
	waitFile(t, filepath.Join(sync, "started"))
	c.Signal(syscall.SIGTERM)
	c.WaitLine("stopping gracefully")
	waitRefused(t, addr)
	if err := os.WriteFile(filepath.Join(sync, "release"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.code != 200 || r.body != "finished\n" {
		t.Errorf("request in flight got %d %q; want 200 %q", r.code, r.body, "finished\n")
	}
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d; want 0", status)
	}
}

// waitRefused waits until connections to addr are refused.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	poll(t, "connections to "+addr+" refused", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	})
}

// poll calls cond every 10ms until it returns true, for at most timeout.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not %s within %v", what, timeout)
		}
	}
}

// waitFile waits for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	poll(t, path+" created", func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}

// TestStopCutShort checks that requests in flight are cut, and the command
// exits 1, after --graceful-timeout or on a second signal.
func TestStopCutShort(t *testing.T) {
	needPython(t)
	cases := []struct {
		name    string
		timeout string
		second  bool
		want    string
	}{
		{"graceful timeout", "0.2", false, "requests in flight were cut short"},
		{"second signal", "30", true, "second signal: stopping at once"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sync := t.TempDir()
			c := startCLI(t, []string{"SYNC_DIR=" + sync}, "serve", "--bind", "127.0.0.1:0", "--python", debianPython,
				"--chdir", "testdata", "-w", "1", "--graceful-timeout", tc.timeout, "apps:slow")
			addr := c.Addr()
			failed := make(chan error, 1)
			go func() {
				resp, err := http.Get("http://" + addr + "/")
				if err == nil {
					resp.Body.Close()
				}
				failed <- err
			}()
			waitFile(t, filepath.Join(sync, "started"))
			c.Signal(syscall.SIGTERM)
			c.WaitLine("stopping gracefully")
			if tc.second {
				c.Signal(syscall.SIGINT)
			}
			c.WaitLine(tc.want)
			if status := c.Wait(); status != exitFailure {
				t.Errorf("exit status %d; want %d", status, exitFailure)
			}
			if err := <-failed; err == nil {
				t.Error("the request in flight did not fail")
			}
		})
	}
}

// TestShutdownDelay stops a server started with --shutdown-delay: from
// SIGTERM on /readyz says 503 while new connections are still served, and
// only after the delay does it drain and exit 0.
func TestShutdownDelay(t *testing.T) {
	needPython(t)
	t.Parallel()
	const delay = 5 * time.Second // ample for the checks below on a busy machine
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--admin", "127.0.0.1:0", "--shutdown-delay", delay.String(), "apps:hello")
	_, admin, _ := strings.Cut(c.WaitLine("admin listening"), "addr=")
	admin = "http://" + admin
	addr := "http://" + c.Addr()
	// Each request on a new connection, as from a client that comes next.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	expect := func(url string, code int) {
		t.Helper()
		if got, body := get(t, fresh, url); got != code {
			t.Errorf("GET %s: %d %q; want %d", url, got, body, code)
		}
	}
	expect(admin+"/readyz", 200)
	expect(addr+"/", 200)

	c.Signal(syscall.SIGTERM)
	signalled := time.Now()
	c.WaitLine("stopping gracefully")
	expect(admin+"/readyz", 503)
	expect(admin+"/healthz", 200)
	for range 3 {
		expect(addr+"/", 200)
	}
	if elapsed := time.Since(signalled); elapsed >= delay {
		t.Fatalf("the checks took %v, more than the delay: too slow to tell", elapsed)
	}
	c.WaitLine("shutdown delay over: draining")
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d; want 0", status)
	}
	if elapsed := time.Since(signalled); elapsed < delay {
		t.Errorf("exited %v after SIGTERM; want the %v delay first", elapsed, delay)
	}
}

func TestImportError(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--bind", "127.0.0.1:0", "--python", debianPython,
		"--chdir", "testdata", "-w", "2", "broken:application")
	if status := c.Wait(); status != exitLoadError {
		t.Errorf("exit status %d; want %d", status, exitLoadError)
	}
	out := c.Stderr()
	for _, want := range []string{
		`cannot load app "broken:application"`,
		"Traceback (most recent call last):",
		"import this_module_does_not_exist",
		"ModuleNotFoundError: No module named 'this_module_does_not_exist'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Contains(out, "msg=listening") {
		t.Error("it logged that it listens")
	}
}

// TestUnixSocket serves on a unix socket whose path holds a stale socket
// file, and checks that the file is gone after exit.
func TestUnixSocket(t *testing.T) {
	needPython(t)
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "gowsgi.sock")
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()

	c := startCLI(t, nil, "serve", "--bind", "unix:"+sock, "--python", debianPython,
		"--chdir", "testdata", "-w", "1", "apps:hello")
	if addr := c.Addr(); addr != "unix:"+sock {
		t.Errorf("listening on %q; want %q", addr, "unix:"+sock)
	}
	code, body := get(t, unixClient(sock), "http://gowsgi/")
	if code != 200 || body != "Hello world!\n" {
		t.Errorf("GET over %s: %d %q", sock, code, body)
	}
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("socket file: %v, %v; want mode 0777 (--umask 0, as gunicorn's default)", fi.Mode(), err)
	}
	c.Signal(syscall.SIGINT)
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d after SIGINT; want 0", status)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
}

// TestUmask: --umask 007 gives the unix socket the mode 0770, whatever the
// process's own umask.
func TestUmask(t *testing.T) {
	needPython(t)
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "gowsgi.sock")
	c := startCLI(t, nil, "serve", "--bind", "unix:"+sock, "--umask", "007", "--python", debianPython,
		"--chdir", "testdata", "-w", "1", "apps:hello")
	c.Addr()
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o770 {
		t.Errorf("socket file: %v, %v; want mode 0770", fi.Mode(), err)
	}
}

// TestSocketInUse checks that a unix socket another server listens on, or
// a file that is not a socket, is left alone.
func TestSocketInUse(t *testing.T) {
	dir := t.TempDir()
	busy := filepath.Join(dir, "busy.sock")
	l, err := net.Listen("unix", busy)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("data"), 0o666); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{busy: "another server is listening", plain: "not a socket"} {
		_, err := listen(bindAddr{"unix", path})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("listen(unix:%s) = %v; want an error saying %q", path, err, want)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s was removed: %v", path, err)
		}
	}
}

// TestUsage runs bad command lines, which exit 2 and say what is wrong,
// and help, which exits 0.
func TestUsage(t *testing.T) {
	cases := []struct {
		args   []string
		status int
		want   string // in stdout for status 0, else in stderr
	}{
		{[]string{}, 2, "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve"}, 2, "no application"},
		{[]string{"serve", "a:b", "c:d"}, 2, "one application, not 2"},
		{[]string{"serve", "--nope", "a:b"}, 2, "gowsgi serve: unknown flag --nope; see gowsgi serve --help\n"},
		{[]string{"serve", "-x", "a:b"}, 2, "gowsgi serve: unknown flag -x; see gowsgi serve --help\n"},
		{[]string{"check", "--nope", "a:b"}, 2, "gowsgi check: unknown flag --nope; see gowsgi check --help\n"},
		{[]string{"serve", "--workers", "-1", "a:b"}, 2, `invalid value "-1" for flag --workers`},
		{[]string{"serve", "--threads", "many", "a:b"}, 2, `invalid value "many" for flag --threads`},
		{[]string{"serve", "a:b", "--bind"}, 2, "flag needs an argument: --bind"},
		{[]string{"serve", "--h2c=maybe", "a:b"}, 2, `invalid boolean value "maybe" for --h2c`},
		{[]string{"serve", "--limit-request-body", "60X", "a:b"}, 2, `"60X" is not a size in bytes`},
		{[]string{"serve", "--env", "NOEQUALS", "a:b"}, 2, `"NOEQUALS" is not KEY=VALUE`},
		{[]string{"serve", "--bind", "localhost:http-nope", "a:b"}, 2, `bad port "http-nope"`},
		{[]string{"serve", "--bind", "unix:", "a:b"}, 2, "no socket path"},
		{[]string{"serve", "--chdir", "/nonexistent/dir", "a:b"}, 2, `--chdir "/nonexistent/dir" is not a directory`},
		{[]string{"serve", "--graceful-timeout", "soon", "a:b"}, 2, `"soon" is not a number of seconds`},
		{[]string{"serve", "--log-level", "loud", "a:b"}, 2, `"loud" is not one of`},
		{[]string{"serve", "--prefix", "app", "--python", "/bin/sh", "a:b"}, 2, `Prefix "app" must start with /`},
		{[]string{"serve", "--python", "/nonexistent/python", "a:b"}, 2, "/nonexistent/python"},
		{[]string{"serve", "-h"}, 0, "-b, --bind ADDRESS"},
		{[]string{"serve", "-h"}, 0, "SIGQUIT           stop at once"},
		{[]string{"serve", "-h"}, 0, "SIGUSR1           reopen --access-logfile and --error-logfile only"},
		{[]string{"help", "serve"}, 0, "--limit-request-body BYTES"},
		{[]string{"check", "--help"}, 0, "Usage: gowsgi check [flags] MODULE:CALLABLE"},
		{[]string{"help", "check"}, 0, "--python PYTHON"},
		{[]string{"help"}, 0, "gowsgi serve [flags] MODULE:CALLABLE"},
		{[]string{"version"}, 0, "gowsgi "},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		status := run(tc.args, &stdout, &stderr)
		out := stderr.String()
		if tc.status == 0 {
			out = stdout.String()
		}
		if status != tc.status || !strings.Contains(out, tc.want) {
			t.Errorf("gowsgi %q: status %d, output:\n%s\nwant status %d and %q",
				tc.args, status, out, tc.status, tc.want)
		}
		command := len(tc.args) > 0 && (tc.args[0] == "serve" || tc.args[0] == "check")
		if command && tc.status != 0 && strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("gowsgi %q: stderr has %d lines:\n%s\nwant one", tc.args, strings.Count(stderr.String(), "\n"), stderr.String())
		}
		if command && tc.args[0] == "check" && tc.status == 0 && strings.Contains(out, "--workers") {
			t.Errorf("gowsgi %q prints serve's flags:\n%s", tc.args, out)
		}
	}
}

// TestBadFlagExit checks the exit status of the real process.
func TestBadFlagExit(t *testing.T) {
	c := startCLI(t, nil, "serve", "--no-such-flag", "apps:hello")
	if status := c.Wait(); status != exitUsage {
		t.Errorf("exit status %d; want %d", status, exitUsage)
	}
	if out := strings.TrimSpace(c.Stderr()); out != "gowsgi serve: unknown flag --no-such-flag; see gowsgi serve --help" {
		t.Errorf("stderr:\n%s\nwant one line naming --no-such-flag", out)
	}
}

// TestQuit sends SIGQUIT while a request is in flight (apps:slow, never
// released): the command exits 0 at once, without Go's goroutine dump,
// the request fails, and the worker, the socket file and the runtime
// directory are gone.
func TestQuit(t *testing.T) {
	needPython(t)
	t.Parallel()
	sync, tmp := t.TempDir(), t.TempDir()
	sock := filepath.Join(t.TempDir(), "gowsgi.sock")
	c := startCLI(t, []string{"SYNC_DIR=" + sync, "TMPDIR=" + tmp}, "serve", "--bind", "unix:"+sock,
		"--python", debianPython, "--chdir", "testdata", "-w", "1", "apps:slow")
	c.Addr()
	workers := childPIDs(c.Pid())
	if len(workers) == 0 {
		t.Fatal("no worker process")
	}
	failed := make(chan error, 1)
	go func() {
		_, err := unixClient(sock).Get("http://gowsgi/")
		failed <- err
	}()
	waitFile(t, filepath.Join(sync, "started"))
	start := time.Now()
	c.Signal(syscall.SIGQUIT)
	if status := c.Wait(); status != exitOK {
		t.Errorf("exit status %d after SIGQUIT; want 0", status)
	}
	took := time.Since(start)
	if took > 5*time.Second {
		t.Errorf("SIGQUIT took %v to stop; want at once", took)
	}
	if out := c.Stderr(); strings.Contains(out, "goroutine ") || !strings.Contains(out, "stopping at once") {
		t.Errorf("stderr after SIGQUIT:\n%s\nwant \"stopping at once\" and no goroutine dump", out)
	}
	if err := <-failed; err == nil {
		t.Error("the request in flight did not fail")
	}
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "gowsgi-*")); len(left) > 0 {
		t.Errorf("runtime files left behind: %q", left)
	}
	for _, pid := range workers {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("worker %d still running", pid)
		}
	}
	t.Logf("stopped %v after SIGQUIT", took.Round(time.Millisecond))
}

// childPIDs returns the children of pid, from /proc/PID/task/*/children.
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			var p int
			fmt.Sscan(w, &p)
			pids = append(pids, p)
		}
	}
	return pids
}
