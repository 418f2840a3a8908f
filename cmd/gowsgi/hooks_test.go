package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// The hooks tests run gowsgi serve, with /usr/bin/python3, on
// testdata/hooks: hooksapp:app, and a gunicorn.conf.py whose every hook
// appends a JSON line ("mark") to a file, saying what it saw.

// hooksConfig is how a test names the gunicorn config file whose hooks
// run: the environment and the arguments to add.
func hooksConfig(path string) (env, args []string) {
	return nil, []string{"--config", path}
}

// hooksRun is a server running the hooks of testdata/hooks/gunicorn.conf.py.
type hooksRun struct {
	c      *proctest.Process
	marks  string // the file the hooks write
	client *http.Client
}

// startHooks starts the server, listening on a unix socket (whose file
// tells on_starting and when_ready whether the server is bound), with
// the extra environment env and arguments args.
func startHooks(t *testing.T, env []string, args ...string) *hooksRun {
	t.Helper()
	dir := t.TempDir()
	h := &hooksRun{marks: filepath.Join(dir, "marks")}
	sock := filepath.Join(dir, "sock")
	henv, hargs := hooksConfig("testdata/hooks/gunicorn.conf.py")
	env = append(append(env, henv...), "HOOKS_LOG="+h.marks, "HOOKS_SOCKET="+sock)
	args = append(append([]string{"serve", "--bind", "unix:" + sock, "--python", debianPython,
		"--chdir", "testdata/hooks", "--graceful-timeout", "10"}, hargs...), args...)
	h.c = startCLI(t, env, append(args, "hooksapp:app")...)
	h.c.Addr()
	h.client = unixClient(sock)
	return h
}

// A mark is what one hook saw (or the app: "hook" is "app").
type mark map[string]any

func (m mark) hook() string        { s, _ := m["hook"].(string); return s }
func (m mark) str(k string) string { s, _ := m[k].(string); return s }

// num reads a number of m (JSON's float64) as an int; -1 if none.
func (m mark) num(k string) int {
	f, ok := m[k].(float64)
	if !ok {
		return -1
	}
	return int(f)
}

// read returns the marks so far, in the order written.
func (h *hooksRun) read(t *testing.T) []mark {
	t.Helper()
	f, err := os.Open(h.marks)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []mark
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m mark
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("mark %q: %v", sc.Text(), err)
		}
		ms = append(ms, m)
	}
	return ms
}

// await waits until n marks of hook have been written, and returns all.
func (h *hooksRun) await(t *testing.T, hook string, n int) []mark {
	t.Helper()
	return proctest.Poll(t, timeout, strconv.Itoa(n)+" marks of "+hook, func() ([]mark, bool) {
		ms := h.read(t)
		return ms, len(of(ms, hook)) >= n
	})
}

// get fetches path with header X-Test: yes and returns the status and body.
func (h *hooksRun) get(t *testing.T, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://gowsgi"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test", "yes")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// of returns the marks of hook.
func of(ms []mark, hook string) []mark {
	var out []mark
	for _, m := range ms {
		if m.hook() == hook {
			out = append(out, m)
		}
	}
	return out
}

// index is the position of the first mark of hook for which match holds
// (nil: any), or -1.
func index(ms []mark, hook string, match func(mark) bool) int {
	return slices.IndexFunc(ms, func(m mark) bool { return m.hook() == hook && (match == nil || match(m)) })
}

func pidIs(pid int) func(mark) bool { return func(m mark) bool { return m.num("pid") == pid } }

// TestHooks runs one server through its life, with every hook defined:
// start with 2 workers, a request, SIGTTIN (a third worker), a worker
// killed, SIGHUP (three new workers), SIGTERM. Each subtest then checks
// one hook's marks: that it ran at its moment, with the right objects.
func TestHooks(t *testing.T) {
	needPython(t)
	t.Parallel()
	h := startHooks(t, nil, "-w", "2")
	cli := h.c.Pid()
	code, body := h.get(t, "/a%20b/c?x=1&y=2")
	if code != 200 {
		t.Fatalf("GET: %d %q", code, body)
	}
	served, _ := strconv.Atoi(body)
	h.await(t, "post_request", 1)

	h.c.Signal(syscall.SIGTTIN)
	h.await(t, "post_worker_init", 3)
	h.await(t, "nworkers_changed", 2)
	victim := of(h.read(t), "post_fork")[0].num("pid")
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.await(t, "child_exit", 1)
	h.await(t, "post_worker_init", 4)

	h.c.Signal(syscall.SIGHUP)
	h.await(t, "on_reload", 1)
	h.await(t, "post_worker_init", 7)
	h.await(t, "child_exit", 4) // the three replaced
	h.c.Stop()
	ms := h.read(t)
	helper := of(ms, "on_starting")
	if len(helper) != 1 {
		t.Fatalf("on_starting ran %d times; want 1; marks %v", len(helper), ms)
	}
	helperPID := helper[0].num("in_pid")
	forks := of(ms, "post_fork")
	var workers []int
	byAge := map[int]int{} // worker.age -> worker.pid
	for _, m := range forks {
		workers = append(workers, m.num("pid"))
		byAge[m.num("age")] = m.num("pid")
	}

	t.Run("nworkers_changed", func(t *testing.T) {
		got := of(ms, "nworkers_changed")
		if len(got) != 2 || got[0]["new"] != 2.0 || got[0]["old"] != nil || got[1]["new"] != 3.0 || got[1]["old"] != 2.0 {
			t.Errorf("nworkers_changed: %v; want (2, None) at the start, (3, 2) after SIGTTIN", got)
		}
		if index(ms, "nworkers_changed", nil) != 0 {
			t.Errorf("nworkers_changed (2, None) is not the first mark: %v", ms)
		}
	})
	t.Run("on_starting", func(t *testing.T) {
		m := helper[0]
		if m["bound"] != false || m.num("server_pid") != cli || m.num("workers") != 2 {
			t.Errorf("on_starting saw %v; want bound false, server.pid %d, 2 workers", m, cli)
		}
		if i := index(ms, "on_starting", nil); i > index(ms, "post_fork", nil) {
			t.Errorf("on_starting after a post_fork: %v", ms)
		}
		if helperPID == cli || slices.Contains(workers, helperPID) {
			t.Errorf("on_starting ran in pid %d: the server (%d) or a worker (%v), not the hooks helper", helperPID, cli, workers)
		}
		if !strings.Contains(h.c.Stderr(), "on_starting ran") {
			t.Errorf("server.log's line is not in the server's log")
		}
	})
	t.Run("when_ready", func(t *testing.T) {
		got := of(ms, "when_ready")
		if len(got) != 1 || got[0]["bound"] != true || got[0].num("server_pid") != cli || got[0].num("in_pid") != helperPID {
			t.Fatalf("when_ready: %v; want once, bound, server.pid %d, in the helper %d", got, cli, helperPID)
		}
		inits := 0
		for _, m := range ms[:index(ms, "when_ready", nil)] {
			if m.hook() == "post_worker_init" {
				inits++
			}
		}
		if inits != 2 {
			t.Errorf("when_ready after %d post_worker_init; want both workers ready: %v", inits, ms)
		}
	})
	t.Run("post_fork", func(t *testing.T) {
		if len(forks) != 7 {
			t.Fatalf("%d post_fork; want 7 (2, SIGTTIN, a replacement, 3 on SIGHUP): %v", len(forks), forks)
		}
		for i, m := range forks {
			// The workers of a start or a reload start at once, their
			// ages in any order: 1 and 2, 3 (SIGTTIN), 4 (the
			// replacement), then 5 to 7.
			if age, lo, hi := m.num("age"), []int{1, 1, 3, 4, 5, 5, 5}[i], []int{2, 2, 3, 4, 7, 7, 7}[i]; age < lo || age > hi {
				t.Errorf("post_fork %d saw age %d; want %d to %d", i, age, lo, hi)
			}
			if m.num("pid") != m.num("in_pid") || m.num("ppid") != cli || m.num("server_pid") != cli || m["app_imported"] != false {
				t.Errorf("post_fork %d saw %v; want worker.pid its own, the server (%d) its parent and server.pid, the app not imported yet",
					i, m, cli)
			}
		}
		if len(byAge) != 7 {
			t.Errorf("worker ages %v; want 7 different", byAge)
		}
		if !slices.Contains(workers, served) {
			t.Errorf("the request was served by pid %d, not one of the workers %v", served, workers)
		}
	})
	t.Run("post_worker_init", func(t *testing.T) {
		for _, pid := range workers {
			i := index(ms, "post_worker_init", pidIs(pid))
			if i < 0 || i < index(ms, "post_fork", pidIs(pid)) {
				t.Errorf("worker %d: no post_worker_init after its post_fork: %v", pid, ms)
				continue
			}
			if m := ms[i]; m["app_imported"] != true || m["alive"] != true || m.num("in_pid") != pid {
				t.Errorf("post_worker_init saw %v; want the app imported, alive, in the worker", m)
			}
		}
		if !strings.Contains(h.c.Stderr(), "level=WARN msg=\"WARNING:gunicorn.error:post_worker_init of worker "+strconv.Itoa(workers[0])) {
			t.Errorf("worker.log.warning is not a WARN record of the server's log")
		}
	})
	t.Run("pre_request", func(t *testing.T) {
		got := of(ms, "pre_request")
		if len(got) != 1 {
			t.Fatalf("pre_request: %v; want 1", got)
		}
		m := got[0]
		if m.num("pid") != served || m.str("method") != "GET" || m.str("path") != "/a%20b/c" || m.str("query") != "x=1&y=2" {
			t.Errorf("pre_request saw %v; want worker.pid %d, GET /a%%20b/c x=1&y=2", m, served)
		}
		headers, _ := json.Marshal(m["headers"])
		if !strings.Contains(string(headers), `["X-TEST","yes"]`) || !strings.Contains(string(headers), `["HOST","gowsgi"]`) {
			t.Errorf("req.headers %s lack (X-TEST, yes) and (HOST, gowsgi)", headers)
		}
		if index(ms, "pre_request", nil) > index(ms, "app", nil) {
			t.Errorf("pre_request after the app: %v", ms)
		}
	})
	t.Run("post_request", func(t *testing.T) {
		got := of(ms, "post_request")
		if len(got) != 1 {
			t.Fatalf("post_request: %v; want 1", got)
		}
		m := got[0]
		headers, _ := json.Marshal(m["headers"])
		if m.num("pid") != served || m.str("path") != "/a%20b/c" || m.str("path_info") != "/a b/c" ||
			m.str("status") != "200 OK" || !strings.Contains(string(headers), `["X-App","hooks"]`) {
			t.Errorf("post_request saw %v; want worker.pid %d, the request's path and environ, resp.status 200 OK and the app's headers", m, served)
		}
		if index(ms, "post_request", nil) < index(ms, "app", nil) {
			t.Errorf("post_request before the app: %v", ms)
		}
	})
	t.Run("child_exit", func(t *testing.T) {
		got := of(ms, "child_exit")
		if len(got) != 7 {
			t.Fatalf("%d child_exit; want 7, one a worker: %v", len(got), got)
		}
		for _, m := range got {
			pid := m.num("pid")
			age := m.num("age")
			if byAge[age] != pid || m["alive"] != false || m.num("in_pid") != helperPID {
				t.Errorf("child_exit saw %v; want the pid and age of a worker that ended, in the helper", m)
			}
			want := "exit status 0"
			if pid == victim {
				want = "signal: killed"
			}
			if m.str("exit") != want {
				t.Errorf("child_exit of %d: worker.exit %q; want %q", pid, m.str("exit"), want)
			}
		}
		if i := index(ms, "child_exit", pidIs(victim)); i < 0 || i > index(ms, "on_reload", nil) {
			t.Errorf("no child_exit for the killed worker %d before the reload: %v", victim, ms)
		}
	})
	t.Run("on_reload", func(t *testing.T) {
		i := index(ms, "on_reload", nil)
		if len(of(ms, "on_reload")) != 1 || ms[i].num("server_pid") != cli {
			t.Fatalf("on_reload: %v; want once, with server.pid %d", of(ms, "on_reload"), cli)
		}
		for _, m := range forks {
			if (m.num("age") > 4) != (index(ms, "post_fork", pidIs(m.num("pid"))) > i) {
				t.Errorf("post_fork of age %d on the wrong side of on_reload: %v", m.num("age"), ms)
			}
		}
	})
	t.Run("worker_exit", func(t *testing.T) {
		for _, pid := range workers {
			i := index(ms, "worker_exit", pidIs(pid))
			if pid == victim {
				if i >= 0 {
					t.Errorf("worker_exit ran in the worker killed with SIGKILL")
				}
				continue
			}
			if i < 0 || ms[i]["alive"] != false || ms[i].num("in_pid") != pid || i > index(ms, "child_exit", pidIs(pid)) {
				t.Errorf("worker %d: no worker_exit in it, alive false, before its child_exit: %v", pid, ms)
			}
		}
	})
	t.Run("on_exit", func(t *testing.T) {
		last := ms[len(ms)-1]
		if len(of(ms, "on_exit")) != 1 || last.hook() != "on_exit" || last.num("server_pid") != cli || last.num("in_pid") != helperPID {
			t.Errorf("on_exit: %v; want one, the last mark, in the helper", of(ms, "on_exit"))
		}
	})
}

// TestHookWorkerAbort: a request past --timeout runs worker_abort in its
// worker, which then exits (status 1, not SIGKILL) after worker_exit; the
// replacement serves.
func TestHookWorkerAbort(t *testing.T) {
	needPython(t)
	t.Parallel()
	h := startHooks(t, nil, "-w", "1", "--timeout", "1")
	if code, body := h.get(t, "/sleep"); code != http.StatusGatewayTimeout {
		t.Fatalf("GET /sleep: %d %q; want 504", code, body)
	}
	ms := h.await(t, "child_exit", 1)
	pid := of(ms, "post_fork")[0].num("pid")
	abort := of(ms, "worker_abort")
	if len(abort) != 1 || abort[0].num("pid") != pid || abort[0].num("in_pid") != pid || abort[0]["alive"] != false {
		t.Fatalf("worker_abort: %v; want one, in worker %d, alive false", abort, pid)
	}
	if i := index(ms, "worker_exit", pidIs(pid)); i < index(ms, "worker_abort", nil) {
		t.Errorf("no worker_exit after worker_abort: %v", ms)
	}
	if exit := of(ms, "child_exit")[0].str("exit"); exit != "exit status 1" {
		t.Errorf("the aborted worker ended with %q; want exit status 1, its own exit after the hook", exit)
	}
	if code, _ := h.get(t, "/"); code != 200 {
		t.Errorf("GET / after the timeout: %d; want 200 from the replacement", code)
	}
	h.c.Stop()
}

// TestHookRaises: every hook raises; each error is logged with its
// traceback and the server serves on, and stops with status 0. A request
// whose pre_request raises gets 500 without reaching the app, as under
// gunicorn, and post_request still runs, without a response.
func TestHookRaises(t *testing.T) {
	needPython(t)
	t.Parallel()
	h := startHooks(t, []string{"HOOKS_RAISE=1"}, "-w", "1")
	if code, _ := h.get(t, "/"); code != 200 {
		t.Errorf("GET /: %d; want 200 though pre_request and post_request raised", code)
	}
	if code, _ := h.get(t, "/refuse"); code != 500 {
		t.Errorf("GET /refuse: %d; want 500: its pre_request raised", code)
	}
	ms := h.await(t, "post_request", 2)
	if index(ms, "app", func(m mark) bool { return m.str("path") == "/refuse" }) >= 0 {
		t.Errorf("the app ran for /refuse, whose pre_request raised")
	}
	// By path: with --threads above 1, /refuse's post_request may come
	// before that of / (which runs after its response).
	if i := index(ms, "post_request", func(m mark) bool { return m.str("path") == "/refuse" }); i < 0 || ms[i]["status"] != nil {
		t.Errorf("post_request of /refuse: %v; want one, with resp None", ms)
	}
	if code, _ := h.get(t, "/"); code != 200 {
		t.Errorf("GET / again: %d; want 200", code)
	}
	line := h.c.WaitLine("app raised an exception", "path=/refuse")
	for _, want := range []string{"status=500", "Traceback", "pre_request refused /refuse on purpose", "PreRequestError"} {
		if !strings.Contains(line, want) {
			t.Errorf("the log line of /refuse lacks %q: %s", want, line)
		}
	}
	h.c.Stop()
	for _, hook := range []string{"on_starting", "nworkers_changed", "when_ready", "post_fork", "post_worker_init",
		"post_request", "worker_exit", "child_exit", "on_exit"} {
		line := h.c.WaitLine("Exception in " + hook + " hook")
		for _, want := range []string{"level=ERROR", "Traceback (most recent call last)", "RuntimeError: " + hook + " raised on purpose"} {
			if !strings.Contains(line, want) {
				t.Errorf("the log record of %s's error lacks %q: %s", hook, want, line)
			}
		}
	}
}

// TestHookPreload: with --preload, post_fork runs in the zygote's child,
// after fork, the app already imported; server.pid is still the server's.
func TestHookPreload(t *testing.T) {
	needPython(t)
	t.Parallel()
	h := startHooks(t, nil, "-w", "2", "--preload")
	cli := h.c.Pid()
	code, body := h.get(t, "/")
	served, _ := strconv.Atoi(body)
	if code != 200 {
		t.Fatalf("GET /: %d %q", code, body)
	}
	ms := h.await(t, "post_worker_init", 2)
	forks := of(ms, "post_fork")
	var pids []int
	ages := 0
	for _, m := range forks {
		pid := m.num("pid")
		pids = append(pids, pid)
		ages += m.num("age")
		if m.num("in_pid") != pid || m.num("server_pid") != cli || m.num("ppid") == cli || m["app_imported"] != true {
			t.Errorf("post_fork saw %v; want worker.pid its own, server.pid %d, the zygote its parent, the app imported", m, cli)
		}
		if zygote, err := proctest.ParentOf(pid); err != nil || zygote != m.num("ppid") {
			t.Errorf("worker %d's parent: %d, %v; want the zygote %d", pid, zygote, err, m.num("ppid"))
		}
		if index(ms, "post_worker_init", pidIs(pid)) < index(ms, "post_fork", pidIs(pid)) {
			t.Errorf("worker %d: post_worker_init not after post_fork: %v", pid, ms)
		}
	}
	if len(forks) != 2 || !slices.Contains(pids, served) || ages != 3 {
		t.Errorf("post_fork in %v, ages summing to %d; want the 2 workers, of ages 1 and 2, one of which served (%d)", pids, ages, served)
	}
	h.c.Stop()
}

// TestHooksFileRaises: a config file that raises stops the server before it
// binds, with the traceback (the settings loader reads it first, so its
// error is the one shown).
func TestHooksFileRaises(t *testing.T) {
	needPython(t)
	t.Parallel()
	file := filepath.Join(t.TempDir(), "gunicorn.conf.py")
	if err := os.WriteFile(file, []byte("workers = 2\n1 / 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, args := hooksConfig(file)
	c := startCLI(t, env, append(append([]string{"serve", "--bind", "127.0.0.1:0", "--python", debianPython}, args...), "hooksapp:app")...)
	if status := c.Wait(); status != exitUsage {
		t.Errorf("exit status %d; want %d", status, exitUsage)
	}
	out := c.Stderr()
	for _, want := range []string{"the gunicorn config file failed", file, "ZeroDivisionError"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "listening") {
		t.Errorf("the server listened:\n%s", out)
	}
}

// TestWhenReadyBeforeSignals: a SIGTTIN that comes while when_ready runs
// is acted on after it returns, as gunicorn's arbiter handles signals only
// after when_ready: the added worker's post_fork comes after when_ready.
// (TestHooks's SIGTTIN came during a slow when_ready so, under load.)
func TestWhenReadyBeforeSignals(t *testing.T) {
	needPython(t)
	t.Parallel()
	gate := filepath.Join(t.TempDir(), "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHooks(t, []string{"HOOKS_READY_GATE=" + gate}, "-w", "1")
	// Opening the FIFO returns once when_ready has opened it.
	f, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.c.Signal(syscall.SIGTTIN)
	// A server that acts on the signal now forks the worker now: give
	// its post_fork a second to come first (a lower bound only; the
	// fixed server writes none until when_ready returns).
	for end := time.Now().Add(time.Second); time.Now().Before(end) && len(of(h.read(t), "post_fork")) < 2; {
		<-time.After(20 * time.Millisecond)
	}
	f.Close()
	h.await(t, "post_worker_init", 2)
	h.c.Stop()
	ms := h.read(t)
	if ready, fork := index(ms, "when_ready", nil), index(ms, "post_fork", func(m mark) bool { return m.num("age") == 2 }); ready < 0 || fork < ready {
		t.Errorf("when_ready at mark %d, the SIGTTIN worker's post_fork at %d; want when_ready first: %v", ready, fork, ms)
	}
}
