package adapter_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAdapterValidate serves the application wrapped in wsgiref.validate,
// which turns any breach of PEP 3333 into an AssertionError and a 500.
func TestAdapterValidate(t *testing.T) {
	needPython(t, "wsgiref")
	s := startServer(t, "wsgiref", []string{"--validate"})
	for _, c := range commonCases {
		switch c.name {
		case "panic", "cancel": // a 500 and a broken pipe, by design
			continue
		}
		t.Run(c.name, func(t *testing.T) { c.run(t, s) })
	}
	for _, bad := range []string{"AssertionError", "Traceback", "WSGIWarning"} {
		if strings.Contains(s.log.String(), bad) {
			t.Errorf("wsgiref.validate: %s in the log:\n%s", bad, s.log)
		}
	}
}

// TestAdapterPreload checks the fork safety of the process models that
// import the application before they fork workers: the lazy default works,
// and a library loaded before the fork fails with an error naming the fix.
func TestAdapterPreload(t *testing.T) {
	library(t)
	tests := []struct {
		name, server string
		args         []string
	}{
		{"gunicorn --preload", "gunicorn-sync", []string{"--preload"}},
		{"uwsgi master without lazy-apps", "uwsgi-processes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tt.server, tt.args)
			testHello(t, s)
			eager := startServer(t, tt.server, tt.args, "GOWSGI_EAGER=1")
			// gunicorn answers 500; uWSGI drops the connection.
			if resp, err := client.Get(eager.url + "/"); err == nil {
				resp.Body.Close()
				if resp.StatusCode != 500 {
					t.Errorf("library loaded before fork: GET / = %d, want 500", resp.StatusCode)
				}
			}
			eager.log.waitFor(t, "a Go runtime does not survive fork(), so it cannot serve here.  Fix: load it after the fork", 5*time.Second)
		})
	}
}

// TestAdapterSignals checks that the host keeps its signals once the Go
// runtime is loaded: Ctrl-C and SIGTERM reach the Python handlers, and
// the servers shut down as they normally do.
func TestAdapterSignals(t *testing.T) {
	library(t)
	tests := []struct {
		name, server string
		sig          syscall.Signal
		group        bool // the whole process group, as Ctrl-C in a terminal
		want         string
	}{
		{"wsgiref SIGTERM", "wsgiref", syscall.SIGTERM, false, "caught SIGTERM"},
		{"wsgiref Ctrl-C", "wsgiref", syscall.SIGINT, true, "caught SIGINT"},
		// Not gthread with Ctrl-C: there gunicorn 20.1 itself hangs now and
		// then, Go or not. The master answers SIGINT with SIGQUIT to the
		// worker, whose handler may then run inside its own SIGINT handler,
		// which holds the thread pool's (not reentrant) shutdown lock.
		{"gunicorn SIGTERM", "gunicorn-gthread", syscall.SIGTERM, false, "Shutting down: Master"},
		{"gunicorn Ctrl-C", "gunicorn-sync", syscall.SIGINT, true, "Shutting down: Master"},
		{"uwsgi Ctrl-C", "uwsgi-threads", syscall.SIGINT, true, "goodbye to uWSGI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tt.server, nil)
			// A gunicorn worker still booting keeps the master's handlers,
			// which swallow the signal, and the master then waits its
			// graceful timeout (30s) for it.
			s.waitWorkers(t)
			for range 4 {
				testGoroutines(t, s)
			}
			if tt.server == "wsgiref" {
				checkGoThreadsBlockHostSignals(t, s.cmd.Process.Pid)
			}
			pid := s.cmd.Process.Pid
			if tt.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, tt.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-s.exited:
			case <-time.After(15 * time.Second):
				t.Fatalf("still running 15s after %v", tt.sig)
			}
			if !strings.Contains(s.log.String(), tt.want) {
				t.Errorf("no %q in the log after %v:\n%s", tt.want, tt.sig, s.log)
			}
			if code := s.cmd.ProcessState.ExitCode(); code != 0 && !(tt.server == "uwsgi-threads" && code == 30) {
				t.Errorf("exit code %d after %v", code, tt.sig)
			}
		})
	}
}

// checkGoThreadsBlockHostSignals checks that only the Python main thread of
// process pid accepts SIGINT and SIGTERM: the Go runtime's threads, which
// gowsgi.load started with them blocked, never run the host's handlers.
//
// A threaded server's request thread (a Python thread, which accepts them)
// may still be exiting after its response, so the check is retried for a
// moment before it fails.
func checkGoThreadsBlockHostSignals(t *testing.T, pid int) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		open, total := threadsAcceptingHostSignals(t, pid)
		if open == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d of %d threads accept SIGINT or SIGTERM, want 1 (Python's main thread)", open, total)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadsAcceptingHostSignals counts the threads of pid that do not block
// SIGINT or SIGTERM, and all its threads.
func threadsAcceptingHostSignals(t *testing.T, pid int) (open, total int) {
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	if err != nil || len(tasks) < 3 {
		t.Fatalf("%d threads (%v): the Go runtime is not loaded?", len(tasks), err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if hex, ok := strings.CutPrefix(line, "SigBlk:"); ok {
				mask, _ := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
				if mask&(1<<(syscall.SIGINT-1)) == 0 || mask&(1<<(syscall.SIGTERM-1)) == 0 {
					open++
				}
			}
		}
	}
	return open, len(tasks)
}

// inprocess runs testdata/inprocess.py mode and returns its output.
func inprocess(t *testing.T, mode string, timeout time.Duration) string {
	needPython(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	abs, _ := filepath.Abs("python")
	cmd := exec.CommandContext(ctx, python, "inprocess.py", mode, library(t))
	cmd.Dir = "testdata"
	cmd.Env = append(pythonEnv(t), "PYTHONPATH="+abs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("inprocess.py %s: %v\n%s", mode, err, out)
	}
	return string(out)
}

func TestAdapterOneRuntimePerProcess(t *testing.T) {
	t.Parallel()
	out := inprocess(t, "second", 30*time.Second)
	for _, want := range []string{"refused: gowsgi: cannot load", "a process can hold only one", "first still serves"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

func TestAdapterFork(t *testing.T) {
	t.Parallel()
	out := inprocess(t, "fork", 30*time.Second)
	for _, want := range []string{"child refused: gowsgi:", "which then forked this process", "Fix: load it after the fork", "parent still serves"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestAdapterMemory serves 100,000 requests in process (hello, uploads,
// large responses, responses closed early) and checks that RSS stays flat.
func TestAdapterMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	t.Parallel()
	out := inprocess(t, "memory", 50*time.Second)
	var before, after, growth int
	i := strings.Index(out, "rss_kb")
	if i < 0 {
		t.Fatalf("no measurement in:\n%s", out)
	}
	if _, err := fmt.Sscanf(out[i:], "rss_kb before=%d after=%d growth=%d", &before, &after, &growth); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	t.Logf("RSS %d KiB after 20,000 requests, %d KiB after 100,000", before, after)
	if growth > 8<<10 {
		t.Errorf("RSS grew by %d KiB over 80,000 requests", growth)
	}
}
