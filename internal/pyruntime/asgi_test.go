package pyruntime_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
)

// interpreter is a Python to run the worker with, and the loop it should
// report.
type interpreter struct {
	name, path, loop string
}

// interpreters returns Debian's Python (with uvloop), the python3 first on
// PATH if it is another (pyenv's, without uvloop: asyncio's loop), PyPy if
// installed, and those listed in $GOWSGI_TEST_PYTHONS (colon-separated
// paths: the oldest and newest CPython, say). Each reports uvloop exactly
// when it can import it.
func interpreters(t *testing.T) []interpreter {
	t.Helper()
	var out []interpreter
	seen := map[string]bool{}
	candidates := []struct{ name, cmd string }{{"debian", debianPython}, {"path", "python3"}, {"pypy", "pypy3"}}
	for _, path := range filepath.SplitList(os.Getenv("GOWSGI_TEST_PYTHONS")) {
		candidates = append(candidates, struct{ name, cmd string }{filepath.Base(path), path})
	}
	for _, c := range candidates {
		path, err := exec.LookPath(c.cmd)
		if err != nil {
			t.Logf("%s (%s): not found, skipped", c.name, c.cmd)
			continue
		}
		real, err := exec.Command(path, "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if seen[string(real)] {
			continue
		}
		seen[string(real)] = true
		loop := "asyncio"
		if exec.Command(path, "-c", "import uvloop").Run() == nil {
			loop = "uvloop"
		}
		out = append(out, interpreter{c.name, path, loop})
	}
	return out
}

// TestASGIHello: under each interpreter, the worker says Ready with the
// ASGI keys (its loop: uvloop where importable), notes that an app without
// lifespan support serves without it, and answers a GET with exactly
// start, body and Done; a body streams both ways, and a WebSocket echoes.
func TestASGIHello(t *testing.T) {
	for _, py := range interpreters(t) {
		t.Run(py.name, func(t *testing.T) {
			// Every warning shown: the runtime must cause none.
			p, w, info := startASGI(t, py.path, "asgiapp:app", "PYTHONWARNINGS=default")
			for k, want := range map[string]any{"interface": "asgi", "loop": py.loop, "lifespan": "unsupported", "app": "asgiapp.app"} {
				if info[k] != want {
					t.Errorf("Ready info %q = %#v, want %#v (info %v)", k, info[k], want, info)
				}
			}
			p.WaitLine("lifespan unsupported: the app raised AssertionError", "serving without lifespan")

			w.open(1, httpScope("GET", "/hello", ""))
			w.request(1, "", false)
			start := w.next(1)
			wantStart := map[any]any{"type": "http.response.start", "status": int64(200),
				"headers": []any{marshal.Tuple{[]byte("content-type"), []byte("text/plain")}}, "trailers": false}
			if start.typ != frame.Message || !reflect.DeepEqual(start.val, wantStart) {
				t.Errorf("first frame %v %#v, want Message %#v", start.typ, start.val, wantStart)
			}
			body := w.next(1)
			wantBody := map[any]any{"type": "http.response.body", "body": []byte("hello"), "more_body": false}
			if body.typ != frame.Message || !reflect.DeepEqual(body.val, wantBody) {
				t.Errorf("second frame %v %#v, want Message %#v", body.typ, body.val, wantBody)
			}
			if done := w.next(1); done.typ != frame.Done || done.val != nil {
				t.Errorf("third frame %v %#v, want Done None", done.typ, done.val)
			}

			testEcho(t, w, 2)
			testWebSocketEcho(t, w, 3)
			w.closeWrite()
			w.eof()
			if status := p.Wait(); status != 0 {
				t.Errorf("exit status %d, want 0", status)
			}
			if lines := strings.Split(p.Stderr(), "\n"); len(lines) != 1 {
				t.Errorf("stderr has more than the lifespan line:\n%s", p.Stderr())
			}
		})
	}
}

// testEcho: each request chunk is handed to the app, credited, and sent
// back before the next is sent.
func testEcho(t *testing.T, w *wire, sid int64) {
	t.Helper()
	w.open(sid, httpScope("POST", "/echo", ""))
	r := &response{}
	for i, chunk := range []string{"one", "two", "three"} {
		last := i == 2
		w.request(sid, chunk, !last)
		credits, n := r.credits, len(r.bodies)
		for r.credits == credits || len(r.bodies) == n {
			w.take(sid, r, true)
		}
		if r.credits-credits != len(chunk) {
			t.Errorf("echo: credit %d for %q", r.credits-credits, chunk)
		}
		if got := r.bodies[n]; string(got["body"].([]byte)) != chunk || got["more_body"] != !last {
			t.Errorf("echo: %v back for %q", got, chunk)
		}
	}
	for !r.done {
		w.take(sid, r, true)
	}
	if r.start["status"] != int64(200) || r.trace != nil {
		t.Errorf("echo: start %v, Done %v", r.start, r.trace)
	}
}

// testWebSocketEcho: accept with the first subprotocol and a header; text
// (credited as its code points, not UTF-8 bytes) and binary messages echoed; a bad send
// raises in the app; the app's close has its code and reason.
func testWebSocketEcho(t *testing.T, w *wire, sid int64) {
	t.Helper()
	w.open(sid, wsScope("/ws/echo", "chat", "other"))
	w.msg(sid, map[string]any{"type": "websocket.connect"})
	accept := w.next(sid)
	want := map[any]any{"type": "websocket.accept", "subprotocol": "chat",
		"headers": []any{marshal.Tuple{[]byte("x-accepted"), []byte("yes")}}}
	if !reflect.DeepEqual(accept.val, want) {
		t.Fatalf("websocket: %v %#v, want accept %#v", accept.typ, accept.val, want)
	}
	for _, m := range []map[string]any{
		{"type": "websocket.receive", "text": "héllo"},
		{"type": "websocket.receive", "bytes": []byte{0, 1, 2}},
	} {
		w.msg(sid, m)
		credit, echo := w.nextTwo(sid, frame.Credit, frame.Message)
		data, _ := m["bytes"].([]byte)
		text, _ := m["text"].(string)
		size := len(data) + len([]rune(text)) // a text counts its code points
		if credit.val != int64(size) {
			t.Errorf("websocket: credit %v for %v, want %d", credit.val, m, size)
		}
		e := echo.val.(map[any]any)
		if e["type"] != "websocket.send" || !reflect.DeepEqual(e["text"], m["text"]) || !reflect.DeepEqual(e["bytes"], m["bytes"]) {
			t.Errorf("websocket: %v back for %v", e, m)
		}
		w.credit(sid, size)
	}
	w.msg(sid, map[string]any{"type": "websocket.receive", "text": "close"})
	for {
		g := w.next(sid)
		if g.typ == frame.Message {
			want := map[any]any{"type": "websocket.close", "code": int64(4000), "reason": "bye"}
			if !reflect.DeepEqual(g.val, want) {
				t.Errorf("websocket: %#v, want %#v", g.val, want)
			}
			break
		}
	}
	if g := w.next(sid); g.typ != frame.Done || g.val != nil {
		t.Errorf("websocket: %v %v after close, want Done None", g.typ, g.val)
	}
}

// nextTwo returns the next two frames of sid, of types a and b in either
// order.
func (w *wire) nextTwo(sid int64, a, b frame.Type) (got, got) {
	w.t.Helper()
	x, y := w.next(sid), w.next(sid)
	if x.typ == b && y.typ == a {
		x, y = y, x
	}
	if x.typ != a || y.typ != b {
		w.t.Fatalf("stream %d: %v %v then %v %v, want %v and %v", sid, x.typ, x.val, y.typ, y.val, a, b)
	}
	return x, y
}

// TestASGILifespan: startup fills the state before Ready; each request's
// scope has a shallow copy (a change to one is not in the next) and the
// asgi key; on EOF the worker runs shutdown and exits 0.
func TestASGILifespan(t *testing.T) {
	p, w, info := startASGI(t, testPython, "asgilifespan:app")
	if info["lifespan"] != "on" {
		t.Errorf("Ready info lifespan = %v, want on", info["lifespan"])
	}
	for sid := int64(1); sid <= 2; sid++ {
		r := w.get(sid, "/", "")
		var state map[string]any
		if err := json.Unmarshal(r.body, &state); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
		want := map[string]any{"pid": float64(p.Pid()), "greeting": "hello from startup"}
		if !reflect.DeepEqual(state, want) {
			t.Errorf("request %d: state %v, want %v", sid, state, want)
		}
	}
	w.closeWrite()
	p.WaitLine("lifespan shutdown in")
	w.eof()
	if status := p.Wait(); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
}

// TestASGILifespanFailed: startup.failed is a LoadError with the app's
// message, and exit status 4, as an app that does not import.
func TestASGILifespanFailed(t *testing.T) {
	p, w := spawn(t, testPython, "asgilifespan:failing")
	g := w.recv()
	if g.typ != frame.LoadError || !strings.Contains(g.val.(string), "ASGI lifespan startup failed: no database at db:5432") {
		t.Errorf("first frame %v %q, want LoadError with the message", g.typ, g.val)
	}
	if status := p.Wait(); status != 4 {
		t.Errorf("exit status %d, want 4", status)
	}
}

// TestASGILifespanReturns: an app that returns on a lifespan scope does not
// support it: Ready says so and it serves.
func TestASGILifespanReturns(t *testing.T) {
	p, w, info := startASGI(t, testPython, "asgilifespan:returning")
	if info["lifespan"] != "unsupported" {
		t.Errorf("Ready info lifespan = %v, want unsupported", info["lifespan"])
	}
	p.WaitLine("lifespan unsupported: the app returned")
	if r := w.get(1, "/", ""); r.start["status"] != int64(204) || r.trace != nil {
		t.Errorf("start %v, Done %v", r.start, r.trace)
	}
}

// TestASGIScope: the worker adds asgi (3.0, spec 2.4) and state to Go's
// scope and changes nothing else.
func TestASGIScope(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	for sid := int64(1); sid <= 2; sid++ {
		r := w.get(sid, "/scope", "a=1&b=%20")
		var scope map[string]any
		if err := json.Unmarshal(r.body, &scope); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
		want := map[string]any{
			"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
			"path": "/scope", "raw_path": "/scope", "query_string": "a=1&b=%20", "root_path": "",
			"headers": []any{[]any{"host", "example.com"}, []any{"x-dup", "1"}, []any{"x-dup", "2"}},
			"client":  []any{"127.0.0.1", float64(51000)}, "server": []any{"127.0.0.1", float64(8000)},
			"extensions": map[string]any{"http.response.pathsend": map[string]any{}},
			"asgi":       map[string]any{"version": "3.0", "spec_version": "2.4"},
			"state":      map[string]any{},
		}
		if !reflect.DeepEqual(scope, want) {
			t.Errorf("request %d: scope\n%v\nwant\n%v", sid, scope, want)
		}
	}
}

// TestASGILoadError: an ASGI app that does not import, or names no
// callable, is a LoadError with the traceback and exit status 4.
func TestASGILoadError(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"nosuchmodule:app", "ModuleNotFoundError: No module named 'nosuchmodule'"},
		{"asgiapp:progress", "'asgiapp:progress' is a dict, not an ASGI callable"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			p, w := spawn(t, testPython, tc.spec)
			g := w.recv()
			if g.typ != frame.LoadError || !strings.Contains(g.val.(string), tc.want) {
				t.Errorf("first frame %v %q, want LoadError with %q", g.typ, g.val, tc.want)
			}
			if status := p.Wait(); status != 4 {
				t.Errorf("exit status %d, want 4", status)
			}
		})
	}
}
