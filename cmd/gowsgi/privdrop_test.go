package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestPidFile checks that --pid writes the server's pid once it listens
// and removes the file at exit, and that a file naming a live process
// stops a second server.
func TestPidFile(t *testing.T) {
	needPython(t)
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "gowsgi.pid")
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"-p", pidFile, "apps:hello")
	c.Addr()
	b, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(c.Pid()) {
		t.Fatalf("pid file: %q, %v; want %d", b, err, c.Pid())
	}

	second := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--pid", pidFile, "apps:hello")
	if status := second.Wait(); status != exitFailure || !strings.Contains(second.Stderr(), "already running as pid "+strconv.Itoa(c.Pid())) {
		t.Errorf("a second server with the same --pid: status %d:\n%s\nwant %d, already running", status, second.Stderr(), exitFailure)
	}

	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d", status)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file after exit: %v; want it removed", err)
	}
}

// TestErrorLogfile checks that --error-logfile takes the server log, which
// SIGUSR1 reopens once it was moved.
func TestErrorLogfile(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "error.log")
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--error-logfile", logFile, "apps:hello")
	addr := waitLog(t, logFile, regexp.MustCompile(`msg=listening addr=(\S+)`))
	if code, _ := get(t, http.DefaultClient, "http://"+addr+"/"); code != 200 {
		t.Errorf("GET: %d", code)
	}
	if strings.Contains(c.Stderr(), "listening") {
		t.Errorf("the server log went to stderr too:\n%s", c.Stderr())
	}
	if err := os.Rename(logFile, logFile+".1"); err != nil {
		t.Fatal(err)
	}
	c.Signal(syscall.SIGUSR1)
	waitLog(t, logFile, regexp.MustCompile(`msg="server log (reopened)"`))
}

// waitLog waits for a line of the log file that matches re and returns
// its first group.
func waitLog(t *testing.T, file string, re *regexp.Regexp) string {
	t.Helper()
	return proctest.Poll(t, timeout, file+" to match "+re.String(), func() (string, bool) {
		b, _ := os.ReadFile(file)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1]), true
		}
		return "", false
	})
}

// TestListenBacklog checks that --backlog sets the listen queue, as ss(8)
// shows it (Send-Q of a listening socket), gunicorn's 2048 by default.
func TestListenBacklog(t *testing.T) {
	needPython(t)
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("no ss:", err)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{{nil, 2048}, {[]string{"--backlog", "37"}, 37}} {
		c := startCLI(t, nil, append([]string{"serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
			"apps:hello"}, tc.args...)...)
		_, port, _ := net.SplitHostPort(c.Addr())
		out, err := exec.Command("ss", "-ltnH", "sport = :"+port).Output()
		if err != nil {
			t.Fatal(err)
		}
		// State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
		f := strings.Fields(string(out))
		if len(f) < 3 || f[2] != strconv.Itoa(min(tc.want, somaxconn(t))) {
			t.Errorf("%q: ss says %q; want Send-Q %d", tc.args, out, tc.want)
		}
		c.Stop()
	}
}

// somaxconn is the kernel's cap on listen queues.
func somaxconn(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		t.Skip("no net.core.somaxconn:", err)
	}
	return n
}

// TestUserGroup runs the server as root with --user and --group of an
// unprivileged user it creates: it binds a port below 1024, then the Go
// process and the workers run as that user, the pid and log files are
// theirs, as is the unix socket, and both are removed at exit. It needs
// root and useradd.
func TestUserGroup(t *testing.T) {
	needPython(t)
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("no useradd:", err)
	}
	name := fmt.Sprintf("gowsgi-t%d", os.Getpid())
	if out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}

	// The pid file's directory is the user's, so that it can remove it.
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(run, uid, gid); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} { // t.TempDir's are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pidFile, accessLog, sock := filepath.Join(run, "gowsgi.pid"), filepath.Join(dir, "access.log"), filepath.Join(run, "app.sock")
	port := freePortBelow1024(t)
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:"+port, "-b", "unix:"+sock, "--python", debianPython, "--chdir", abs(t, "testdata"),
		"-w", "2", "--user", name, "--group", name, "--pid", pidFile, "--access-logfile", accessLog, "ids:ids")
	addr := c.Addr()
	if code, body := get(t, http.DefaultClient, "http://"+addr+"/"); code != 200 || body != u.Uid+" "+u.Gid+" ["+u.Gid+"]" {
		t.Errorf("the worker's uid gid [groups]: %d %q; want %s %s [%s]", code, body, u.Uid, u.Gid, u.Gid)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Uid:\t" + strings.Repeat(u.Uid+"\t", 3) + u.Uid + "\n",
		"Gid:\t" + strings.Repeat(u.Gid+"\t", 3) + u.Gid + "\n",
		"Groups:\t" + u.Gid + " \n",
	} {
		if !bytes.Contains(status, []byte(want)) {
			t.Errorf("the server's /proc/PID/status lacks %q:\n%s", want, status)
		}
	}
	for _, f := range []string{pidFile, accessLog, sock} {
		if fi, err := os.Stat(f); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(uid) {
			t.Errorf("%s: %v; want it owned by %s", f, err, name)
		}
	}
	c.Signal(syscall.SIGTERM)
	if s := c.Wait(); s != 0 {
		t.Errorf("exit status %d:\n%s", s, c.Stderr())
	}
	for _, f := range []string{pidFile, sock} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s after exit: %v; want it removed", f, err)
		}
	}
	if b, _ := os.ReadFile(accessLog); !bytes.Contains(b, []byte(`"GET / HTTP/1.1" 200`)) {
		t.Errorf("access log: %q", b)
	}
}

// freePortBelow1024 returns a privileged port nothing listens on now.
func freePortBelow1024(t *testing.T) string {
	t.Helper()
	for p := 1023; p > 900; p-- {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			l.Close()
			return strconv.Itoa(p)
		}
	}
	t.Skip("no free port below 1024")
	return ""
}

// TestUserGroupErrors checks that an unknown --user or --group stops
// serve with its name.
func TestUserGroupErrors(t *testing.T) {
	needPython(t)
	for _, args := range [][]string{{"--user", "no-such-user-x"}, {"--group", "no-such-group-x"}} {
		c := startCLI(t, nil, append([]string{"serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "apps:hello"}, args...)...)
		if s := c.Wait(); s != exitFailure || !strings.Contains(c.Stderr(), args[0]+` \"`+args[1]+`\"`) {
			t.Errorf("%q: status %d:\n%s", args, s, c.Stderr())
		}
	}
}

// TestUserSelf checks that --user and --group naming the user the server
// runs as are no change, as gunicorn's, root or not.
func TestUserSelf(t *testing.T) {
	needPython(t)
	t.Parallel()
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Skip(err)
	}
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--user", u.Username, "--group", g.Name, "ids:ids")
	want := fmt.Sprintf("%d %d ", os.Getuid(), os.Getgid())
	if code, body := get(t, http.DefaultClient, "http://"+c.Addr()+"/"); code != 200 || !strings.HasPrefix(body, want) {
		t.Errorf("GET: %d %q; want %q...", code, body, want)
	}
	if c.Count("dropped privileges") != 0 {
		t.Errorf("privileges dropped:\n%s", c.Stderr())
	}
}
