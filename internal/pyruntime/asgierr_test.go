package pyruntime_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestASGIEnds: how a stream's app ends is its Done: None when it
// returned (with or without a response), the traceback when it raised,
// before or after the start, cut to fit MaxMeta when huge.
func TestASGIEnds(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	for _, tc := range []struct {
		path     string
		messages int    // Message frames before Done
		trace    string // in Done's traceback; "" for None
	}{
		{"/raise-before", 0, "ValueError: before the start"},
		{"/raise-after", 2, "ValueError: after the start"},
		{"/no-response", 0, ""},
		{"/raise-huge", 0, "ValueError: xxx"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := w.get(1, tc.path, "")
			messages := len(r.bodies) + len(r.others)
			if r.start != nil {
				messages++
			}
			if messages != tc.messages {
				t.Errorf("%d messages before Done, want %d", messages, tc.messages)
			}
			if tc.trace == "" {
				if r.trace != nil {
					t.Errorf("Done %q, want None", r.trace)
				}
				return
			}
			trace, _ := r.trace.(string)
			if !strings.Contains(trace, tc.trace) || !strings.HasPrefix(trace, "Traceback (most recent call last):") {
				t.Errorf("Done %.300q, want a traceback with %q", trace, tc.trace)
			}
			if len(trace) > frame.MaxMeta-64 {
				t.Errorf("traceback of %d bytes, want at most MaxMeta-64", len(trace))
			}
			if tc.path == "/raise-huge" && !strings.Contains(trace, "truncated") {
				t.Errorf("a 3 MB traceback not said to be cut: %.300q", trace)
			}
		})
	}
}

// TestASGIBadMessages: send() refuses, in the app, a message of the wrong
// form or out of order, naming what is wrong; the stream goes on.
func TestASGIBadMessages(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	for i, tc := range []struct{ name, want string }{
		{"body-first", "RuntimeError: Expected ASGI message 'http.response.start', but got 'http.response.body'."},
		{"two-starts", "RuntimeError: Expected ASGI message 'http.response.body' or 'http.response.pathsend', but got 'http.response.start'."},
		{"after-complete", "RuntimeError: Unexpected ASGI message 'http.response.body' sent, after response already completed."},
		{"no-type", "TypeError: an ASGI message must be a dict with a 'type' key, not dict {'status': 200}"},
		{"type-not-str", "TypeError: ASGI message 'type' must be a str, not bytes b'http.response.start'"},
		{"not-a-dict", "TypeError: an ASGI message must be a dict with a 'type' key, not str"},
		{"unknown-type", "RuntimeError: Expected ASGI message 'http.response.start', but got 'http.response.begin'."},
		{"status-str", "TypeError: http.response.start 'status' must be an int, not str '200'"},
		{"status-missing", "TypeError: http.response.start needs 'status', an int"},
		{"headers-str", "TypeError: http.response.start 'headers' must be an iterable of [name, value] pairs, not str"},
		{"header-str-value", "TypeError: http.response.start 'header value' must be bytes, not str '1'"},
		{"header-triple", "TypeError: http.response.start 'headers' must be an iterable of [name, value] byte string pairs"},
		{"body-str", "TypeError: http.response.body 'body' must be bytes, not str 'x'"},
		{"more-body-int", "TypeError: http.response.body 'more_body' must be a bool, not int 1"},
		{"trailers-not-offered", "RuntimeError: http.response.start asks for trailers, but this request does not allow them"},
		{"trailers-early", "RuntimeError: Expected ASGI message 'http.response.body' or 'http.response.pathsend', but got 'http.response.trailers'."},
		{"pathsend-int", "TypeError: http.response.pathsend 'path' must be a str, not int 3"},
		{"pathsend-after-body", "RuntimeError: Expected ASGI message 'http.response.body', but got 'http.response.pathsend'."},
		{"websocket-on-http", "RuntimeError: Expected ASGI message 'http.response.start', but got 'websocket.accept'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid := int64(i + 1)
			r := w.get(sid, "/bad", tc.name)
			line := p.WaitLine("bad " + tc.name + ":")
			if !strings.Contains(line, tc.want) {
				t.Errorf("%s\nwant it to say %s", line, tc.want)
			}
			if r.trace != nil {
				t.Errorf("Done %v, want None", r.trace)
			}
		})
	}
}

// TestASGIDisconnect: after Go's http.disconnect the app's receive() has
// it, and its next send() raises ClientDisconnected, an OSError, which
// ends the stream as a return does, also when the app raises its own
// exception from it (as Starlette's ClientDisconnect); an exception with
// no disconnect behind it is still the app's error.
func TestASGIDisconnect(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	for sid, path := range []string{"/disconnect", "/disconnect-wrapped"} {
		sid := int64(sid + 1)
		r := w.disconnectAfter(sid, path, len("part"))
		if r.trace != nil {
			t.Errorf("%s: Done %v, want None", path, r.trace)
		}
	}
	for _, line := range []string{"received http.disconnect", "send raised ClientDisconnected, an OSError"} {
		proctest.Eventually(t, proctest.Timeout, "2 lines "+line, func() bool { return p.Count(line) == 2 })
	}
	// Disconnected, but raising for another reason.
	r := w.disconnectAfter(3, "/raise-after", len("half"))
	if trace, _ := r.trace.(string); !strings.Contains(trace, "ValueError: after the start") {
		t.Errorf("/raise-after, disconnected: Done %v, want its traceback", r.trace)
	}
}

// TestASGIAfterResponse: receive() once the response is complete returns
// http.disconnect without Go sending one.
func TestASGIAfterResponse(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	r := w.get(1, "/after-response", "")
	p.WaitLine("after the response: http.disconnect")
	if string(r.body) != "done" || r.trace != nil {
		t.Errorf("body %q, Done %v", r.body, r.trace)
	}
}

// TestASGIResponseForms: what reaches Go is always the spec's keys with
// their exact types: trailers (when offered), pathsend, and an app's
// IntEnum status, bytearray values and tuple or list header pairs.
func TestASGIResponseForms(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	pair := func(n, v string) marshal.Tuple { return marshal.Tuple{[]byte(n), []byte(v)} }

	scope := httpScope("GET", "/trailers", "")
	scope["extensions"] = map[string]any{"http.response.trailers": map[string]any{}}
	w.open(1, scope)
	w.request(1, "", false)
	r := w.collect(1)
	if r.start["trailers"] != true || string(r.body) != "data" || r.bodies[0]["more_body"] != false {
		t.Errorf("trailers: start %v, bodies %v", r.start, r.bodies)
	}
	wantTrailers := []map[any]any{{"type": "http.response.trailers", "headers": []any{pair("x-checksum", "abc")}, "more_trailers": false}}
	if !reflect.DeepEqual(r.others, wantTrailers) || r.trace != nil {
		t.Errorf("trailers: %#v, Done %v; want %#v", r.others, r.trace, wantTrailers)
	}

	r = w.get(1, "/pathsend", "")
	path, _ := filepath.Abs(filepath.Join("testdata", "asgiapp.py"))
	wantPath := []map[any]any{{"type": "http.response.pathsend", "path": path}}
	if !reflect.DeepEqual(r.others, wantPath) || len(r.bodies) != 0 || r.trace != nil {
		t.Errorf("pathsend: %#v, bodies %v, Done %v; want %#v", r.others, r.bodies, r.trace, wantPath)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}

	r = w.get(1, "/normalized", "")
	wantStart := map[any]any{"type": "http.response.start", "status": int64(200),
		"headers": []any{pair("x-a", "1"), pair("x-b", "2")}, "trailers": false}
	if !reflect.DeepEqual(r.start, wantStart) || string(r.body) != "ok" || r.trace != nil {
		t.Errorf("normalized: start %#v, body %q, Done %v; want %#v", r.start, r.body, r.trace, wantStart)
	}
}

// TestASGIWebSocket: a client's close reaches the app with its code; a
// message too big for a frame, and an accept that sets the subprotocol
// header itself, raise in the app and are not sent; a handshake the app
// closes is answered by websocket.close, and the denial extension's
// response by its start and body.
func TestASGIWebSocket(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")

	w.open(1, wsScope("/ws/echo"))
	w.msg(1, map[string]any{"type": "websocket.connect"})
	if g := w.next(1); g.typ != frame.Message || g.val.(map[any]any)["subprotocol"] != nil {
		t.Errorf("accept: %v %v, want no subprotocol", g.typ, g.val)
	}
	w.msg(1, map[string]any{"type": "websocket.receive", "text": "bad"})
	p.WaitLine("websocket bad: websocket.send needs exactly one of 'bytes' and 'text' not None, got both")
	w.msg(1, map[string]any{"type": "websocket.receive", "text": "huge"})
	p.WaitLine("websocket huge: websocket.send of 20000", "bytes exceeds the 1048576-byte limit of a frame to the server")
	w.msg(1, map[string]any{"type": "websocket.disconnect", "code": 1001, "reason": "going away"})
	p.WaitLine("websocket disconnect 1001 going away")
	for g := w.next(1); g.typ != frame.Done; g = w.next(1) {
		if g.typ == frame.Message {
			t.Errorf("websocket: %v after the bad send", g.val)
		}
	}

	w.open(2, wsScope("/ws/deny"))
	w.msg(2, map[string]any{"type": "websocket.connect"})
	if g := w.next(2); !reflect.DeepEqual(g.val, map[any]any{"type": "websocket.close", "code": int64(1008), "reason": ""}) {
		t.Errorf("deny: %v %#v", g.typ, g.val)
	}
	if g := w.next(2); g.typ != frame.Done || g.val != nil {
		t.Errorf("deny: %v %v, want Done None", g.typ, g.val)
	}

	w.open(4, wsScope("/ws/bad-accept"))
	w.msg(4, map[string]any{"type": "websocket.connect"})
	p.WaitLine("websocket bad accept: websocket.accept 'headers' must not set Sec-WebSocket-Protocol")
	if g := w.next(4); !reflect.DeepEqual(g.val, map[any]any{"type": "websocket.close", "code": int64(1000), "reason": ""}) {
		t.Errorf("bad accept: %v %#v, want the close that follows", g.typ, g.val)
	}

	w.open(3, wsScope("/ws/deny-http"))
	w.msg(3, map[string]any{"type": "websocket.connect"})
	r := w.collect(3)
	wantStart := map[any]any{"type": "websocket.http.response.start", "status": int64(401),
		"headers": []any{marshal.Tuple{[]byte("www-authenticate"), []byte("Token")}}}
	if !reflect.DeepEqual(r.start, wantStart) || string(r.body) != "who are you" || !r.complete || r.trace != nil {
		t.Errorf("deny-http: start %#v, body %q, complete %v, Done %v", r.start, r.body, r.complete, r.trace)
	}
}

// TestASGIStacks: SIGUSR1 dumps the Python stack of a worker whose loop
// is blocked in the app, as for WSGI (faulthandler).
func TestASGIStacks(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	w.open(1, httpScope("GET", "/blocking", ""))
	w.request(1, "", false)
	p.WaitLine("blocking")
	p.Signal(syscall.SIGUSR1)
	p.WaitLine("in blocking_call_on_the_loop")
}

// TestASGIProtocolError: a frame Go must never send (here an Abort, which
// is WSGI's) makes the worker print why and exit 1.
func TestASGIProtocolError(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	w.send(frame.Abort, 1, nil)
	p.WaitLine("ProtocolError: unexpected frame type 'A'")
	if status := p.Wait(); status != 1 {
		t.Errorf("exit status %d, want 1", status)
	}
}
