package hostile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/coder/websocket"
)

// serveASGI serves app of testdata/asgiapp.py with Debian's Python
// through --interface asgi.
func serveASGI(t *testing.T, app string, env []string, args ...string) (*server, string) {
	t.Helper()
	return serveApp(t, "asgiapp:"+app, env, append([]string{"--interface", "asgi"}, args...)...)
}

// A heldWS is a WebSocket to asgiapp's /ws and the pid of its worker.
type heldWS struct {
	c   *websocket.Conn
	pid int
}

func dialWS(t *testing.T, ctx context.Context, addr string) heldWS {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("WebSocket: %v", err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("WebSocket's first message: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(string(msg), "pid="))
	if err != nil {
		t.Fatalf("WebSocket's first message %q: %v", msg, err)
	}
	return heldWS{c, pid}
}

// A heldResult is what became of a held request.
type heldResult struct {
	status int
	body   string
	err    error
}

// TestASGIWorkerDeath: two ASGI workers each hold unanswered requests,
// started streamed responses and WebSockets while four clients load the
// server; one worker dies (SIGKILLed by the test, or os._exit from its
// app). Each of its unanswered requests gets a 502 whose log line names
// the exit status, each of its started responses is cut, each of its
// WebSockets is closed 1011 (the app's side ended without a close: an
// internal error, as when the app raises; 1012 is for a graceful
// restart); the worker is replaced; the other worker's requests and
// WebSockets are untouched and answer once released, and the load sees
// no failure but 502s of requests that were on the dying worker.
func TestASGIWorkerDeath(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  string // the exit status in the log line
	}{
		{"sigkill", "signal: killed"},
		{"exit", "exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testWorkerDeath(t, tc.name == "sigkill", tc.log)
		})
	}
}

func testWorkerDeath(t *testing.T, kill bool, exitLog string) {
	const holds, streams, sockets = 60, 10, 10
	s, addr := serveASGI(t, "app", nil, "--workers", "2", "--admin", "127.0.0.1:0")
	admin := s.adminAddr()
	await := func(what string, cond func() bool) {
		t.Helper()
		if !eventually(timeout, cond) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
	await("2 ready workers", func() bool {
		return strings.Contains(getMetrics(admin), `gowsgi_workers{state="ready"} 2`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	// WebSockets, spread over both workers (fewest streams first).
	var ws []heldWS
	for range sockets {
		ws = append(ws, dialWS(t, ctx, addr))
	}
	pids := map[int]bool{}
	for _, w := range ws {
		pids[w.pid] = true
	}
	if len(pids) != 2 {
		t.Fatalf("the %d WebSockets are all on one worker: %v", sockets, pids)
	}
	victim := ws[0].pid

	// Unanswered requests: each says on stderr which worker holds it.
	held := make(chan heldResult, holds)
	c := client()
	for i := range holds {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/hold?id=%d", addr, i), nil)
			resp, err := c.Do(req)
			if err != nil {
				held <- heldResult{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			held <- heldResult{resp.StatusCode, string(b), err}
		}()
	}
	onVictim := 0
	for i := range holds {
		line := s.WaitLine(fmt.Sprintf("hold id=%d pid=", i))
		_, pid, _ := strings.Cut(line, fmt.Sprintf("hold id=%d pid=", i))
		if strings.HasPrefix(pid, strconv.Itoa(victim)) {
			onVictim++
		}
	}
	// Started responses: the first line names the worker.
	type started struct {
		pid  int
		body *bufio.Reader
		resp *http.Response
	}
	var starts []started
	for range streams {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/stream", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		pid, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "pid=")))
		if err != nil || perr != nil {
			t.Fatalf("/stream's first line %q: %v %v", line, err, perr)
		}
		starts = append(starts, started{pid, br, resp})
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	loaded := make(chan *loadStats)
	go func() { loaded <- load(loadCtx, 4, "http://"+addr+"/load") }()

	if kill {
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	} else if err := ws[0].c.Write(ctx, websocket.MessageText, []byte("exit")); err != nil {
		t.Fatal(err)
	}

	// The victim's unanswered requests: 502, the log names why.
	for range onVictim {
		r := <-held
		if r.err != nil || r.status != 502 || !strings.HasPrefix(r.body, "502 Bad Gateway\nrequest id: ") {
			t.Errorf("a request held on the dead worker got %d %q %v; want 502", r.status, r.body, r.err)
		}
	}
	s.WaitLine("worker failed during a request", exitLog, "path=/hold")
	// Its started responses: cut, never a body that looks complete.
	for _, st := range starts {
		if st.pid != victim {
			continue
		}
		rest, err := io.ReadAll(st.body)
		if err == nil || strings.Contains(string(rest), "released") {
			t.Errorf("a started response on the dead worker ended with %q, %v; want it cut", rest, err)
		}
	}
	// Its WebSockets: closed 1011.
	codes := map[websocket.StatusCode]int{}
	for _, w := range ws {
		if w.pid != victim {
			continue
		}
		_, _, err := w.c.Read(ctx)
		codes[websocket.CloseStatus(err)]++
	}
	if len(codes) != 1 || codes[websocket.StatusInternalError] == 0 {
		t.Errorf("the dead worker's WebSockets closed with %v; want all 1011", codes)
	}
	t.Logf("on the dead worker: %d held requests, WebSocket close codes %v", onVictim, codes)

	// Replaced: two ready workers, the victim not among them.
	await("the worker replaced", func() bool {
		p := s.workerPIDs()
		return len(p) == 2 && p[0] != victim && p[1] != victim &&
			strings.Contains(getMetrics(admin), `gowsgi_workers{state="ready"} 2`)
	})
	stopLoad()
	st := <-loaded
	t.Logf("load during the death: %v", st)
	for why, n := range st.failed {
		if !strings.HasPrefix(why, "502") || n > 4 {
			t.Errorf("load: %d× %q; only the 502s of the (at most 4) requests on the dead worker may fail", n, why)
		}
	}
	if st.ok.Load() == 0 {
		t.Error("load: nothing served")
	}

	// The survivor's WebSockets still echo; one releases its requests.
	var survivor *heldWS
	for i := range ws {
		if ws[i].pid == victim {
			continue
		}
		survivor = &ws[i]
		if err := ws[i].c.Write(ctx, websocket.MessageText, []byte("echo")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := ws[i].c.Read(ctx); err != nil || string(msg) != "echo" {
			t.Fatalf("a WebSocket on the other worker: %q %v", msg, err)
		}
	}
	if err := survivor.c.Write(ctx, websocket.MessageText, []byte("release")); err != nil {
		t.Fatal(err)
	}
	for range holds - onVictim {
		r := <-held
		if r.err != nil || r.status != 200 || r.body != fmt.Sprintf("released %d\n", survivor.pid) {
			t.Errorf("a request held on the other worker got %d %q %v; want 200 released", r.status, r.body, r.err)
		}
	}
	for _, st := range starts {
		if st.pid == victim {
			continue
		}
		if rest, err := io.ReadAll(st.body); err != nil || string(rest) != "released\n" {
			t.Errorf("a started response on the other worker ended with %q, %v", rest, err)
		}
	}
	for range 3 {
		if code, _ := get(t, c, addr, "/after"); code != 200 {
			t.Errorf("after the death: %d", code)
		}
	}
}
