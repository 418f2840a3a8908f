package pyruntime_test

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
)

// TestASGIFastAPI: Debian's FastAPI 0.92 and Starlette 0.26 on the runtime,
// through the frames alone: lifespan state, a JSON endpoint with path and
// query parameters, a StreamingResponse, one cut by http.disconnect (which
// Starlette's disconnect listener sees), request.is_disconnected() polling
// (a receive() cancelled each time), a background task after the
// response, and a WebSocket.
func TestASGIFastAPI(t *testing.T) {
	if testPython != debianPython && exec.Command(testPython, "-c", "import fastapi").Run() != nil {
		t.Skipf("%s cannot import fastapi (Debian's python3-fastapi is for %s)", testPython, debianPython)
	}
	p, w, info := startASGI(t, testPython, "asgifastapi:app")
	if info["lifespan"] != "on" {
		t.Errorf("lifespan %v, want on", info["lifespan"])
	}
	asJSON := func(r *response) map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal(r.body, &v); err != nil || r.trace != nil {
			t.Fatalf("%s: %v; Done %v", r.body, err, r.trace)
		}
		return v
	}
	if got := asJSON(w.get(1, "/items/42", "q=x")); !reflect.DeepEqual(got, map[string]any{"item_id": float64(42), "q": "x"}) {
		t.Errorf("/items/42: %v", got)
	}
	if got := asJSON(w.get(1, "/state", "")); got["db"] != "connected" {
		t.Errorf("/state: %v", got)
	}
	if r := w.get(1, "/stream", ""); string(r.body) != "chunk0\nchunk1\nchunk2\n" || !r.complete || r.trace != nil {
		t.Errorf("/stream: %q, complete %v, Done %v", r.body, r.complete, r.trace)
	}

	r := w.disconnectAfter(2, "/forever", len("tick0\ntick1\n"))
	if r.trace != nil {
		t.Errorf("/forever cut: Done %v, want None", r.trace)
	}

	w.open(3, httpScope("GET", "/polled", ""))
	w.request(3, "", false)
	w.msg(3, map[string]any{"type": "http.disconnect"})
	p.WaitLine("polled: disconnected")
	if r := w.collect(3); r.trace != nil {
		t.Errorf("/polled: Done %v", r.trace)
	}

	w.open(4, httpScope("POST", "/background", ""))
	w.request(4, "", false)
	if got := asJSON(w.collect(4)); got["queued"] != true {
		t.Errorf("/background: %v", got)
	}
	p.WaitLine("background task ran")

	w.open(5, wsScope("/ws"))
	w.msg(5, map[string]any{"type": "websocket.connect"})
	if g := w.next(5); g.typ != frame.Message || g.val.(map[any]any)["type"] != "websocket.accept" {
		t.Fatalf("/ws: %v %v", g.typ, g.val)
	}
	w.msg(5, map[string]any{"type": "websocket.receive", "text": "shout"})
	for {
		g := w.next(5)
		if g.typ == frame.Message {
			if m := g.val.(map[any]any); m["text"] != "SHOUT" {
				t.Errorf("/ws: %v", m)
			}
			break
		}
	}
	w.msg(5, map[string]any{"type": "websocket.disconnect", "code": 1000})
	p.WaitLine("fastapi websocket done")
	for g := w.next(5); g.typ != frame.Done; g = w.next(5) {
	}

	w.closeWrite()
	w.eof()
	p.WaitLine("fastapi shutdown")
	if status := p.Wait(); status != 0 || strings.Contains(p.Stderr(), "Traceback") {
		t.Errorf("exit status %d, stderr:\n%s", status, p.Stderr())
	}
}
