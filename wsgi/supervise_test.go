package wsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// TestWorkerDeath kills workers in the middle of requests: the request in
// flight gets a 502 naming why, the worker is replaced, and other requests
// are served meanwhile.
func TestWorkerDeath(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch"})
	cases := []struct {
		query, why string
	}{
		{"kill", "signal: killed"},
		{"exit", "exit status 3"},
		{"segv", "signal: segmentation fault"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := ts.call(t, "die", "GET", "/?"+tc.query, nil)
			ts.awaitFailure(t, resp, body, 502, "worker failed during a request", tc.why, "pid=")
			if tc.query == "segv" {
				// faulthandler shows where, in the worker's log.
				ts.logs.await(t, "Fatal Python error: Segmentation fault", "in die")
			}
			// Served by the surviving worker, or by the replacement.
			for range 4 {
				if resp, body := ts.call(t, "hello", "GET", "/", nil); resp.StatusCode != 200 {
					t.Fatalf("after the death: %s %q", resp.Status, body)
				}
			}
		})
	}
	t.Run("after-output", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/?after-output", nil)
		req.Header.Set("X-App", "die")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("got a complete-looking body %q from a worker that died mid-response", b)
		}
	})
	t.Run("pool-refilled", func(t *testing.T) {
		// Four workers died; four replacements start.
		deadline := time.Now().Add(20 * time.Second)
		for {
			if n := strings.Count(ts.logs.String(), `msg="worker started"`); n >= 4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pool not refilled:\n%s", clip(ts.logs.String()))
			}
			ts.logs.mu.Lock()
			ts.logs.cond.Wait()
			ts.logs.mu.Unlock()
		}
		if n := len(ts.c.pool.Workers()); n != 2 {
			t.Errorf("%d workers, want 2", n)
		}
	})
}

// TestConcurrentWithDeath checks that killing one worker disturbs only the
// request it was running.
func TestConcurrentWithDeath(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			app := "hello"
			if i == 20 {
				app = "die"
			}
			req, _ := http.NewRequest("GET", ts.URL+"/?kill", nil)
			req.Header.Set("X-App", app)
			resp, err := ts.Client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if (app == "die") != (resp.StatusCode == 502) {
				errs <- errors.New(app + ": " + resp.Status)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestImportErrors(t *testing.T) {
	cases := []struct {
		app, want string
	}{
		{"broken_import:application", "ModuleNotFoundError: No module named 'this_module_does_not_exist'"},
		{"no_such_module:app", "No module named 'no_such_module'"},
		{"factory:missing", "module 'factory' has no attribute 'missing'"},
		{"factory:not_callable", "is a int, not a WSGI callable"},
		{"factory:create_app(", "cannot parse"},
	}
	for _, tc := range cases {
		t.Run(tc.app, func(t *testing.T) {
			c, err := NewContainer(Config{App: tc.app, Dir: "testdata/apps", Python: debianPython, Workers: 2,
				Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = c.Start(ctx)
			var le *worker.LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start: %v; want a *worker.LoadError saying %q", err, tc.want)
			}
			if len(c.pool.Workers()) != 0 {
				t.Error("workers left running")
			}
			rec := newRecorder()
			c.ServeHTTP(rec, serverRequest("GET", "/"))
			if rec.code != 503 {
				t.Errorf("a container that failed to start answered %d", rec.code)
			}
		})
	}
}

func TestFactory(t *testing.T) {
	for _, tc := range []struct{ app, want string }{
		{"factory:create_app()", "hi"},
		{"factory:create_app('hello there')", "hello there"},
		{"factory:create_app(greeting='kw')", "kw"},
	} {
		ts := startApp(t, Config{App: tc.app, Workers: 1})
		if _, body := ts.get(t, "/"); body != tc.want {
			t.Errorf("%s: %q", tc.app, body)
		}
	}
}

// TestThreads shows two requests running at once in one worker process.
func TestThreads(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, Threads: 2})
	env := environOf(t, ts, httpRequest("GET", ts.URL+"/"))
	if env["wsgi.multithread"] != true || env["wsgi.multiprocess"] != false {
		t.Errorf("multithread %v multiprocess %v", env["wsgi.multithread"], env["wsgi.multiprocess"])
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each waits at a barrier for the other: only threads finish.
			if resp, body := ts.call(t, "rendezvous", "GET", "/", nil); body != "met" {
				t.Errorf("%s %q", resp.Status, body)
			}
		}()
	}
	wg.Wait()
}

func TestPrefix(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Prefix: "/app/", Workers: 1})
	for _, tc := range []struct {
		path, script, info string
		code               int
	}{
		{"/app", "/app", "", 200},
		{"/app/", "/app", "/", 200},
		{"/app/x/y", "/app", "/x/y", 200},
		{"/apple", "", "", 404},
		{"/", "", "", 404},
	} {
		req := httpRequest("GET", ts.URL+tc.path)
		req.Header.Set("X-App", "environ_json")
		resp, body := ts.do(t, req)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %s", tc.path, resp.Status)
			continue
		}
		if tc.code == 200 && (!strings.Contains(body, `"SCRIPT_NAME": "`+tc.script+`"`) ||
			!strings.Contains(body, `"PATH_INFO": "`+tc.info+`"`)) {
			t.Errorf("%s: SCRIPT_NAME/PATH_INFO wrong in %s", tc.path, body)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, MaxRequestBody: 1000, MaxMemoryBody: 100})
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
		code    int
	}{
		{"at limit", 1000, false, 200},
		{"over limit", 1001, false, 413},
		{"chunked at limit", 1000, true, 200},
		{"chunked over limit", 5000, true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(strings.Repeat("b", tc.size))
			if tc.chunked {
				body = io.MultiReader(body)
			}
			resp, text := ts.call(t, "read_body", "POST", "/?read", body)
			if resp.StatusCode != tc.code {
				t.Errorf("%d bytes: %s %q", tc.size, resp.Status, text)
			}
		})
	}
}

// TestShutdown: requests in flight finish, new ones get 503, workers exit.
func TestShutdown(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1})
	fifo := mkfifo(t)
	req := httpRequest("GET", ts.URL+"/?"+fifo)
	req.Header.Set("X-App", "fifo_stream")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("first\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.c.Shutdown(context.Background()) }()
	// Shutdown waits for the request in flight.
	waitDraining(t, ts.c)
	rec := newRecorder()
	ts.c.ServeHTTP(rec, serverRequest("GET", "/"))
	if rec.code != 503 {
		t.Errorf("during shutdown: %d", rec.code)
	}
	writeFile(t, fifo, "bye\n")
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "then bye\n" {
		t.Errorf("in-flight request: %q %v", rest, err)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	for _, p := range ts.c.pool.Workers() {
		select {
		case <-p.Done():
		default:
			t.Errorf("%v still running", p)
		}
	}
}

// TestTimeout: a request that hangs gets 504; the worker's Python stack is
// in the log before it is killed; it is replaced; others are served.
func TestTimeout(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 2, Timeout: 300 * time.Millisecond})
	resp, body := ts.call(t, "hang", "GET", "/stuck", nil)
	ts.awaitFailure(t, resp, body, 504, "request timed out")
	ts.logs.await(t, "request timed out", "path=/stuck", "hang_here_for_ever", "signal: killed", "worker started")
	log := ts.logs.String()
	if strings.Index(log, "hang_here_for_ever") > strings.Index(log, "signal: killed") {
		t.Error("the stack was dumped after the worker was killed")
	}
	if resp, body := ts.call(t, "hello", "GET", "/", nil); resp.StatusCode != 200 {
		t.Errorf("after a timeout: %s %q", resp.Status, body)
	}
}

// TestOverload: past the backlog, or after the queue timeout, a request
// gets a fast 503 with Retry-After instead of waiting without bound.
func TestOverload(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, Backlog: 1, QueueTimeout: 300 * time.Millisecond})
	fifo := mkfifo(t)
	req := httpRequest("GET", ts.URL+"/?"+fifo)
	req.Header.Set("X-App", "fifo_stream")
	busy, err := ts.Client().Do(req) // holds the only worker
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Body.Close()
	if _, err := io.ReadFull(busy.Body, make([]byte, len("first\n"))); err != nil {
		t.Fatal(err)
	}
	waited := make(chan *http.Response)
	go func() {
		resp, _ := ts.call(t, "hello", "GET", "/waits", nil)
		waited <- resp
	}()
	waitWaiting(t, ts.c, 1)
	resp, body := ts.call(t, "hello", "GET", "/refused", nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("queue full: %s %q, Retry-After %q", resp.Status, body, resp.Header.Get("Retry-After"))
	}
	if resp := <-waited; resp.StatusCode != 503 {
		t.Errorf("after the queue timeout: %s", resp.Status)
	}
	ts.logs.await(t, "too many requests waiting", "no worker was free in time")
	// A burst of refusals is one log line a second, then how many more.
	const burst = 200
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			if resp, _ := ts.call(t, "hello", "GET", "/refused", nil); resp.StatusCode != 503 {
				t.Errorf("queue full: %s", resp.Status)
			}
		})
	}
	wg.Wait()
	ts.logs.await(t, "…and ", "more=")
	if n := strings.Count(ts.logs.String(), "too many requests waiting"); n > 10 {
		t.Errorf("%d log lines for %d refused requests; want them rate-limited", n, burst+1)
	}
	writeFile(t, fifo, "done\n")
	io.ReadAll(busy.Body)
	if resp, body := ts.call(t, "hello", "GET", "/", nil); resp.StatusCode != 200 {
		t.Errorf("once free: %s %q", resp.Status, body)
	}
}

// TestRecycle: a worker is replaced after MaxRequests, or when its memory
// passes MaxWorkerMemory, and no request fails meanwhile.
func TestRecycle(t *testing.T) {
	t.Run("max-requests", func(t *testing.T) {
		ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, MaxRequests: 5})
		// The old worker serves on while its replacement starts: keep asking
		// until three processes have served, and none may fail.
		pids := map[string]int{}
		first := ""
		n := 0
		proctest.Poll(t, 20*time.Second, "three processes to serve", func() (string, bool) {
			resp, body := ts.call(t, "pid", "GET", "/", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: %s %q", n, resp.Status, body)
			}
			if first == "" {
				first = body
			}
			pids[body]++
			n++
			return fmt.Sprintf("%d requests served by %d processes", n, len(pids)), len(pids) >= 3
		})
		if pids[first] < 5 {
			t.Errorf("the first worker served %d requests, fewer than MaxRequests", pids[first])
		}
		ts.logs.await(t, "recycling worker", "served its max requests", "worker retired")
	})
	t.Run("memory", func(t *testing.T) {
		ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, MaxWorkerMemory: 100 << 20})
		_, first := ts.call(t, "grow", "GET", "/", nil)
		_, _ = ts.call(t, "grow", "GET", "/", nil) // now over 128 MB
		ts.logs.await(t, "its memory exceeds the limit", "worker retired")
		if _, pid := ts.call(t, "pid", "GET", "/", nil); pid == first {
			t.Errorf("still served by pid %s", pid)
		}
	})
}

// TestReload swaps in new code under steady load with no failed request,
// and keeps the old code serving when the new one does not import.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	version := func(body string) {
		src := "def application(environ, start_response):\n" +
			"    start_response('200 OK', [('Content-Type', 'text/plain')])\n" +
			"    return [" + body + "]\n"
		writeFile(t, dir+"/versioned.py", src)
	}
	version(`b"version one"`)
	ts := startApp(t, Config{App: "versioned:application", Dir: dir, Workers: 2,
		Env: []string{"PYTHONDONTWRITEBYTECODE=1"}})

	stop := make(chan struct{})
	var failures, served atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := ts.Client().Get(ts.URL + "/")
				if err != nil {
					failures.Add(1)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(b), "version") {
					failures.Add(1)
				}
				served.Add(1)
			}
		}()
	}
	version(`b"version two, longer"`)
	if err := ts.c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, body := ts.get(t, "/"); body != "version two, longer" {
		t.Errorf("after Reload: %q", body)
	}
	version(`b"broken" +`)
	err := ts.c.Reload(context.Background())
	var le *worker.LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "SyntaxError") {
		t.Errorf("Reload of broken code: %v", err)
	}
	close(stop)
	wg.Wait()
	if _, body := ts.get(t, "/"); body != "version two, longer" {
		t.Errorf("after a failed Reload: %q", body)
	}
	if failures.Load() != 0 || served.Load() == 0 {
		t.Errorf("%d of %d requests failed across the reloads", failures.Load(), served.Load())
	}
	ts.logs.await(t, "worker retired", "reload failed: the old workers serve on")
	if n := len(ts.c.pool.Workers()); n != 2 {
		t.Errorf("%d workers after the reloads", n)
	}
}

func TestStats(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 2, Threads: 2})
	fifo := mkfifo(t)
	req := httpRequest("GET", ts.URL+"/slow?"+fifo)
	req.Header.Set("X-App", "fifo_stream")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.ReadFull(resp.Body, make([]byte, len("first\n")))
	st := ts.c.Stats()
	if len(st.Workers) != 2 || st.Workers[0].Threads != 2 || st.Workers[0].State != "ready" || st.Workers[0].RSS == 0 {
		t.Errorf("workers: %+v", st.Workers)
	}
	var inflight []RequestStats
	for _, w := range st.Workers {
		inflight = append(inflight, w.Requests...)
	}
	if len(inflight) != 1 || inflight[0].What != "GET /slow" {
		t.Errorf("in flight: %+v", inflight)
	}
	writeFile(t, fifo, "x\n")
	io.ReadAll(resp.Body)
}

// servedBy is a ResponseWriter that records the worker, as an access log.
type servedBy struct {
	http.ResponseWriter
	worker int
}

func (s *servedBy) ServedBy(worker int) { s.worker = worker }

func TestInfoAndServedBy(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1})
	if in := ts.c.Info(); in.App != "pep.dispatch" || in.Python == "" || !strings.HasPrefix(in.Version, "3.") {
		t.Errorf("Info: %+v", in)
	}
	rec := &servedBy{ResponseWriter: newRecorder(), worker: -1}
	ts.c.ServeHTTP(rec, serverRequest("GET", "/"))
	if rec.worker != 0 {
		t.Errorf("ServedBy got worker %d, want 0", rec.worker)
	}
	ts.c.pool.Workers()[0].Kill()
	ts.logs.await(t, "worker started")
	st := ts.c.Stats()
	if len(st.Recent) != 1 || st.Recent[0].Reason != "died" || st.Recent[0].Exit != "signal: killed" || st.Restarts["died"] != 1 {
		t.Errorf("restarts: %+v %+v", st.Restarts, st.Recent)
	}
}

// TestClientLeavesDuringOverrun: a client that leaves while Go sends what
// fits of a response longer than its Content-Length costs the request,
// not the worker, which serves the next one.
func TestClientLeavesDuringOverrun(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1})
	_, before := ts.call(t, "pid", "GET", "/", nil)
	// Declared 32 MiB, sent 64 MiB in one piece: far more than the
	// loopback socket buffers hold, so Go is still copying what fits when
	// the client leaves.
	resp := ts.open(t, "content_length", "/?33554432-67108864", 1024)
	resp.Body.Close() // before the end: the connection is closed
	_, after := ts.call(t, "pid", "GET", "/", nil)
	if after != before {
		t.Errorf("the worker was replaced (pid %s, then %s); want it to serve on", before, after)
	}
	if strings.Contains(ts.logs.String(), "worker failed during a request") {
		t.Errorf("the log blames the worker:\n%s", clip(ts.logs.String()))
	}
}

// TestTimeoutSlowClient: Config.Timeout is for an app that sends nothing,
// not for a client that reads slowly: a 64 MiB piece of body reaches a
// client that pauses longer than the timeout, and the worker serves on.
func TestTimeoutSlowClient(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1, Timeout: timeout})
	_, before := ts.call(t, "pid", "GET", "/", nil)
	const size = 64 << 20
	resp := ts.open(t, "content_length", "/?"+strconv.Itoa(size)+"-"+strconv.Itoa(size), 1024)
	defer resp.Body.Close()
	// The slow client: what is under test is time passing, so wait.
	<-time.After(3 * timeout)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size-1024 {
		t.Errorf("after the pause: %d more bytes, %v; want %d", n, err, size-1024)
	}
	if _, after := ts.call(t, "pid", "GET", "/", nil); after != before {
		t.Errorf("the worker was replaced (pid %s, then %s); want it to serve on", before, after)
	}
	if log := ts.logs.String(); strings.Contains(log, "timed out") || strings.Contains(log, "worker failed") {
		t.Errorf("the log blames the app or the worker:\n%s", clip(log))
	}
}

// TestFileWrapperSlowClient: a wsgi.file_wrapper response is the worker's
// last word, so Go sends the file after the worker is back in the pool: a
// client that stops reading a 32 MiB file (far more than the socket
// buffers hold) does not keep the only worker from the next request.
func TestFileWrapperSlowClient(t *testing.T) {
	ts := startApp(t, Config{App: "pep:dispatch", Workers: 1})
	const size = 32 << 20
	resp := ts.open(t, "big_file", "/?32", 1024)
	defer resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := httpRequest("GET", ts.URL+"/").WithContext(ctx)
	req.Header.Set("X-App", "hello")
	hello, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("GET hello while a client sits on a file response: %v; want an answer (the worker is free)", err)
	}
	body, _ := io.ReadAll(hello.Body)
	hello.Body.Close()
	if string(body) != "Hello world!\n" {
		t.Errorf("hello: %s %q", hello.Status, body)
	}

	// The slow client still gets the whole file.
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size-1024 {
		t.Errorf("the rest of the file: %d bytes, %v; want %d", n, err, size-1024)
	}
}
