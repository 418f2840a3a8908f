// Package proctest runs programs for tests and follows their standard
// error line by line, as net/http/httptest serves HTTP for tests: Start
// starts a command, and the Process it returns waits for a line, for the
// address gowsgi logs it listens on, or for the exit, each within Timeout,
// and kills the program when the test ends. Main and GoBuild build the
// programs for a TestMain. Eventually and Poll wait for any condition
// within a timeout, in place of a loop of sleeps. Only tests import it.
package proctest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds every wait of a Process: for a line and for the exit.
const Timeout = 30 * time.Second

// logLines is how many of its last stderr lines a Process logs when its
// test fails.
const logLines = 100

// A Process is a running program whose standard error is collected line
// by line. Its methods that wait, and Signal, fail the test on their own;
// they are for the test's goroutine.
type Process struct {
	t    testing.TB
	cmd  *exec.Cmd
	name string        // the program's base name, for messages
	done chan struct{} // closed when the program has exited and its stderr is read
	err  error         // from cmd.Wait, once done

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

// Start starts cmd, whose Stderr must be unset, and follows its standard
// error. The process is killed when the test ends; if the test failed, the
// last lines of its standard error are logged.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{
		t:       t,
		cmd:     cmd,
		name:    filepath.Base(cmd.Args[0]),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		// A program built with -race (the test binary run again, as
		// cmd/gowsgi's tests do) reports a race on its stderr only.
		if n := p.Count("WARNING: DATA RACE"); n > 0 {
			t.Errorf("%s reported %d data races", p.name, n)
		}
		if t.Failed() {
			what := "stderr"
			if n := len(p.lines); n > logLines {
				what = fmt.Sprintf("stderr (the last %d of %d lines)", logLines, n)
			}
			t.Logf("%s %s %s:\n%s", p.name, strings.Join(cmd.Args[1:], " "), what, p.Tail(logLines))
		}
	})
	return p
}

// Pid returns the process id.
func (p *Process) Pid() int {
	return p.cmd.Process.Pid
}

// Stderr returns the standard error read so far, without its last newline.
func (p *Process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Tail returns the last n lines of the standard error read so far.
func (p *Process) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// Count returns how many of the lines read so far contain text.
func (p *Process) Count(text string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if strings.Contains(l, text) {
			n++
		}
	}
	return n
}

// WaitLine waits for the first standard error line that contains every one
// of texts and returns it. It fails the test if the program exits, or
// Timeout passes, before it logs such a line.
func (p *Process) WaitLine(texts ...string) string {
	p.t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for i := 0; ; {
		p.mu.Lock()
		lines, changed := p.lines, p.changed
		p.mu.Unlock()
	next:
		for ; i < len(lines); i++ {
			for _, text := range texts {
				if !strings.Contains(lines[i], text) {
					continue next
				}
			}
			return lines[i]
		}
		select {
		case <-changed:
		case <-p.done:
			p.mu.Lock()
			n := len(p.lines) // final: done is closed after the last line
			p.mu.Unlock()
			if n > i {
				continue
			}
			p.t.Fatalf("%s exited (%v) without logging %q", p.name, p.err, texts)
		case <-deadline.C:
			p.t.Fatalf("%s did not log %q within %v", p.name, texts, Timeout)
		}
	}
}

// Addr waits for the program to log where it listens, as gowsgi does with
// "msg=listening addr=ADDR", and returns ADDR.
func (p *Process) Addr() string {
	p.t.Helper()
	line := p.WaitLine("msg=listening")
	_, addr, ok := strings.Cut(line, "addr=")
	if !ok {
		p.t.Fatalf("no addr= in %q", line)
	}
	addr, _, _ = strings.Cut(addr, " ")
	return addr
}

// Exited reports whether the program has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the program to exit, for at most Timeout, and returns its
// exit status: -1 if a signal ended it.
func (p *Process) Wait() int {
	p.t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	select {
	case <-p.done:
	case <-deadline.C:
		p.t.Fatalf("%s did not exit within %v", p.name, Timeout)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

// Signal sends sig to the program.
func (p *Process) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// Stop sends SIGTERM, waits for the program to exit, and reports an error
// unless its exit status is 0.
func (p *Process) Stop() {
	p.t.Helper()
	p.Signal(syscall.SIGTERM)
	if status := p.Wait(); status != 0 {
		p.t.Errorf("%s: exit status %d after SIGTERM; want 0", p.name, status)
	}
}

// Main is for a TestMain whose tests run Go programs: it calls build with
// a new temporary directory to build them in (with GoBuild), runs the
// tests, removes the directory and exits with the tests' status. If build
// fails, Main prints its error and exits 1 without running the tests.
func Main(m *testing.M, build func(dir string) error) {
	os.Exit(run(m, build))
}

func run(m *testing.M, build func(dir string) error) int {
	dir, err := os.MkdirTemp("", "proctest-")
	if err == nil {
		defer os.RemoveAll(dir)
		err = build(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// GoBuild runs "go build" for the package with import path pkg, with the
// extra environment env, writing the program into dir under pkg's last
// element, and returns the program's path; the error holds what go build
// said. The go command is the one on PATH, which go test makes the one that
// runs the tests.
func GoBuild(dir, pkg string, env ...string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// Eventually calls cond every few milliseconds, backing off to 50 ms,
// until it returns true, and fails the test with t.Fatalf naming what it
// awaited if that takes longer than timeout. what says what holds once
// cond does, as in "the pool to hold 2 workers".
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout.Round(time.Millisecond), what)
	}
}

// Poll is Eventually for a condition that has a value: it calls f until
// f's second result is true and returns f's first. If that takes longer
// than timeout it fails the test, naming what and the last value f
// returned.
func Poll[T any](t testing.TB, timeout time.Duration, what string, f func() (T, bool)) T {
	t.Helper()
	var last T
	ok := poll(timeout, func() bool {
		var done bool
		last, done = f()
		return done
	})
	if !ok {
		t.Fatalf("timed out after %v waiting for %s; last seen: %v", timeout.Round(time.Millisecond), what, last)
	}
	return last
}

// poll calls cond until it returns true, sleeping 1 ms after the first
// false and twice as long after each one after, up to 50 ms. It reports
// whether cond held before timeout passed; the last call is made once the
// deadline has passed, so a slow sleep does not cost the last look.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
	}
}
