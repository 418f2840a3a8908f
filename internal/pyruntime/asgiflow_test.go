package pyruntime_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
)

// readUntil reads stream sid into r, without crediting, until it has n
// body bytes.
func (w *wire) readUntil(sid int64, r *response, n int) {
	w.t.Helper()
	for len(r.body) < n && !r.done {
		w.take(sid, r, false)
	}
}

// disconnectAfter GETs path on stream sid, reads n body bytes, then sends
// http.disconnect and reads, crediting, to the stream's Done.
func (w *wire) disconnectAfter(sid int64, path string, n int) *response {
	w.t.Helper()
	w.open(sid, httpScope("GET", path, ""))
	w.request(sid, "", false)
	r := &response{}
	w.readUntil(sid, r, n)
	w.msg(sid, map[string]any{"type": "http.disconnect"})
	for !r.done {
		w.take(sid, r, true)
	}
	return r
}

// TestASGIWindowOut: the worker sends at most the window (256 KiB) of body
// bytes Go has not credited, in pieces of at most 64 KiB, whether the app
// sends them in one send() or many; the send() that fills the window has
// not returned; each Credit lets one more piece go.
func TestASGIWindowOut(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	const size = 1 << 20
	for _, tc := range []struct {
		path, query string
		progress    string // what /progress says while the stream is held
	}{
		{"/big", strconv.Itoa(size), ""},
		{"/chunks", "16*65536", "196608"}, // 3 sends returned, the 4th waits
	} {
		t.Run(tc.path, func(t *testing.T) {
			const sid = 1
			w.open(sid, httpScope("GET", tc.path, tc.query))
			w.request(sid, "", false)
			r := &response{}
			w.readUntil(sid, r, frame.Window)
			// Another stream's whole answer comes after every frame the
			// held one sent before it.
			check := func(want int) {
				t.Helper()
				probe := w.get(2, "/progress", "")
				for len(w.pending[sid]) > 0 {
					w.take(sid, r, false)
				}
				if len(r.body) != want {
					t.Errorf("%d body bytes arrived, want %d", len(r.body), want)
				}
				if tc.progress != "" && want == frame.Window && string(probe.body) != tc.progress {
					t.Errorf("/progress says %s bytes sent, want %s", probe.body, tc.progress)
				}
			}
			check(frame.Window)
			w.credit(sid, 64<<10)
			w.readUntil(sid, r, frame.Window+64<<10)
			check(frame.Window + 64<<10)
			w.credit(sid, len(r.body)-64<<10)
			for !r.done {
				w.take(sid, r, true)
			}
			if len(r.body) != size || !r.complete || r.trace != nil {
				t.Errorf("%d bytes, complete %v, Done %v; want %d, true, nil", len(r.body), r.complete, r.trace, size)
			}
			for i, b := range r.bodies {
				if n := len(b["body"].([]byte)); n > 64<<10 {
					t.Errorf("piece %d: %d bytes, want at most 64 KiB", i, n)
				}
			}
		})
	}
}

// TestASGIWindowIn: the worker credits each request chunk when it hands it
// to the app, not when it arrives.
func TestASGIWindowIn(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	const sid, chunk = 1, 100000
	w.open(sid, httpScope("POST", "/slowread", ""))
	w.request(sid, string(make([]byte, chunk)), true)
	r := &response{}
	for r.credits < chunk {
		w.take(sid, r, true)
	}
	w.request(sid, string(make([]byte, chunk)), true)
	w.request(sid, string(make([]byte, chunk)), false)
	w.get(2, "/go", "") // the app takes the second chunk
	for r.credits < 2*chunk {
		w.take(sid, r, true)
	}
	w.get(3, "/hello", "")
	for len(w.pending[sid]) > 0 {
		w.take(sid, r, true)
	}
	if r.credits != 2*chunk {
		t.Errorf("credits %d before the app took the third chunk, want %d", r.credits, 2*chunk)
	}
	w.get(2, "/go", "")
	for !r.done {
		w.take(sid, r, true)
	}
	if r.credits != 3*chunk || string(r.body) != strconv.Itoa(3*chunk) {
		t.Errorf("credits %d, body %q; want %d and %d", r.credits, r.body, 3*chunk, 3*chunk)
	}
}

// TestASGIManyStreams: 200 streams in flight on one worker at once, each
// waiting for the rest of its body, which comes only once all are open,
// in the reverse order.
func TestASGIManyStreams(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	const n = 200
	for sid := int64(1); sid <= n; sid++ {
		w.open(sid, httpScope("POST", "/wait", ""))
		w.request(sid, fmt.Sprintf("%d-", sid), true)
	}
	for sid := int64(n); sid >= 1; sid-- {
		w.request(sid, "end", false)
	}
	for sid := int64(1); sid <= n; sid++ {
		r := w.collect(sid)
		if want := fmt.Sprintf("%d-end", sid); string(r.body) != want || r.trace != nil {
			t.Errorf("stream %d: %q, Done %v; want %q", sid, r.body, r.trace, want)
		}
	}
}

// TestASGIStop: when Go shuts its side with streams open, no Credit can
// come: a held response is sent whole; an idle WebSocket's app is told
// 1012 (server restart); then the worker closes the channel and exits 0.
func TestASGIStop(t *testing.T) {
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	const size = 1 << 20
	w.open(1, httpScope("GET", "/big", strconv.Itoa(size)))
	w.request(1, "", false)
	r := &response{}
	w.readUntil(1, r, frame.Window)
	w.open(2, wsScope("/ws/echo"))
	w.msg(2, map[string]any{"type": "websocket.connect"})
	if g := w.next(2); g.typ != frame.Message {
		t.Fatalf("websocket: %v %v, want accept", g.typ, g.val)
	}
	w.closeWrite()
	for !r.done {
		w.take(1, r, false)
	}
	if len(r.body) != size || r.trace != nil {
		t.Errorf("%d bytes, Done %v; want %d, nil", len(r.body), r.trace, size)
	}
	p.WaitLine("websocket disconnect 1012 server restart")
	if g := w.next(2); g.typ != frame.Done || g.val != nil {
		t.Errorf("websocket: %v %v, want Done None", g.typ, g.val)
	}
	w.eof()
	if status := p.Wait(); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
}

// TestASGIQueueOrder: messages that arrive faster than the app takes them
// (20 in one write, before its task runs) reach it in order.
func TestASGIQueueOrder(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	const sid = 1
	w.open(sid, wsScope("/ws/echo"))
	w.msg(sid, map[string]any{"type": "websocket.connect"})
	if g := w.next(sid); g.typ != frame.Message {
		t.Fatalf("%v %v, want accept", g.typ, g.val)
	}
	var burst []byte
	for i := range 20 {
		burst = appendFrame(t, burst, frame.Message, sid, map[string]any{"type": "websocket.receive", "text": fmt.Sprint("m", i)})
	}
	w.write(burst)
	for i := 0; i < 20; {
		g := w.next(sid)
		if g.typ != frame.Message {
			continue
		}
		if text := g.val.(map[any]any)["text"]; text != fmt.Sprint("m", i) {
			t.Fatalf("echo %d: %v, want m%d", i, text, i)
		}
		i++
	}
}
