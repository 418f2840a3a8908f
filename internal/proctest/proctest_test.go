package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv names what the test binary, run again by helper, does as the
// program under test.
const helperEnv = "PROCTEST_HELPER"

// TestHelperProcess is the program the tests start, as in os/exec's tests.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		return
	case "log":
		fmt.Fprint(os.Stderr, "one a\ntwo b\none c\nlevel=INFO msg=listening addr=127.0.0.1:1234 x=y\nlast")
		os.Exit(3)
	case "race":
		fmt.Fprint(os.Stderr, "==================\nWARNING: DATA RACE\nRead at 0x00c000012345 by goroutine 7:\n")
		os.Exit(66)
	case "serve":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, "msg=listening addr=127.0.0.1:1")
		<-term
		fmt.Fprintln(os.Stderr, "stopping")
		os.Exit(0)
	}
}

// helper returns a command that runs the test binary as the program mode.
func helper(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	return cmd
}

func TestLines(t *testing.T) {
	p := Start(t, helper("log"))
	if got := p.WaitLine("one", "c"); got != "one c" {
		t.Errorf("WaitLine(one, c) = %q", got)
	}
	if got := p.Addr(); got != "127.0.0.1:1234" {
		t.Errorf("Addr() = %q", got)
	}
	if got := p.WaitLine("last"); got != "last" {
		t.Errorf("WaitLine(last) = %q; want the line without a newline", got)
	}
	if status := p.Wait(); status != 3 {
		t.Errorf("Wait() = %d; want 3", status)
	}
	if !p.Exited() {
		t.Error("Exited() = false after Wait")
	}
	if n := p.Count("one"); n != 2 {
		t.Errorf("Count(one) = %d; want 2", n)
	}
	if got, want := p.Tail(2), "level=INFO msg=listening addr=127.0.0.1:1234 x=y\nlast"; got != want {
		t.Errorf("Tail(2) = %q; want %q", got, want)
	}
	if got := p.Stderr(); !strings.HasPrefix(got, "one a\ntwo b\n") || !strings.HasSuffix(got, "\nlast") {
		t.Errorf("Stderr() = %q", got)
	}
}

func TestStop(t *testing.T) {
	p := Start(t, helper("serve"))
	p.Addr()
	if p.Exited() {
		t.Fatal("Exited() = true before the signal")
	}
	p.Stop()
	if p.Count("stopping") != 1 {
		t.Errorf("stderr %q; want the line logged on SIGTERM", p.Stderr())
	}
}

// fatalTB records a failure and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestWaitLineExited: waiting for a line the program never logs fails the
// test once it has exited, naming the texts.
func TestWaitLineExited(t *testing.T) {
	f := &fatalTB{TB: t}
	p := Start(f, helper("log"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.WaitLine("one", "b")
		t.Error("WaitLine returned")
	}()
	<-done
	if want := `exited (exit status 3) without logging ["one" "b"]`; !strings.Contains(f.msg, want) {
		t.Errorf("failure %q; want one saying %q", f.msg, want)
	}
}

// fakeTB is a testing.TB that records Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestEventually(t *testing.T) {
	calls := 0
	ft := &fakeTB{TB: t}
	Eventually(ft, 5*time.Second, "the fifth call", func() bool { calls++; return calls == 5 })
	if ft.fatal != "" || calls != 5 {
		t.Errorf("after %d calls, Fatalf(%q); want 5 calls and no failure", calls, ft.fatal)
	}

	calls = 0
	start := time.Now()
	Eventually(ft, 100*time.Millisecond, "the never", func() bool { calls++; return false })
	took := time.Since(start)
	if want := "timed out after 100ms waiting for the never"; ft.fatal != want {
		t.Errorf("Fatalf(%q), want %q", ft.fatal, want)
	}
	if took < 100*time.Millisecond || calls < 3 {
		t.Errorf("gave up after %v and %d calls; want at least 100ms and 3 calls", took, calls)
	}
}

func TestPoll(t *testing.T) {
	ft := &fakeTB{TB: t}
	n := 0
	got := Poll(ft, 5*time.Second, "n to reach 3", func() (int, bool) { n++; return n, n == 3 })
	if ft.fatal != "" || got != 3 {
		t.Errorf("Poll = %d, Fatalf(%q); want 3 and no failure", got, ft.fatal)
	}

	n = 0
	got = Poll(ft, 50*time.Millisecond, "n to be negative", func() (int, bool) { n++; return n, false })
	if want := fmt.Sprintf("timed out after 50ms waiting for n to be negative; last seen: %d", n); ft.fatal != want || got != n {
		t.Errorf("Poll = %d, Fatalf(%q); want %d and %q", got, ft.fatal, n, want)
	}
}

// raceTB records what a Process reports to its test, and runs its cleanups
// when asked.
type raceTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *raceTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *raceTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// TestRaceReported: a program that reports a data race on its stderr fails
// its test when the test ends, even though the test never looked.
func TestRaceReported(t *testing.T) {
	tb := &raceTB{TB: t}
	p := Start(tb, helper("race"))
	p.Wait()
	for _, f := range tb.cleanups {
		f()
	}
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "reported 1 data races") {
		t.Errorf("errors reported to the test: %q; want one saying it reported 1 data races", tb.errors)
	}
}
