package pyruntime_test

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/internal/pyruntime"
)

// The tests of this file drive the ASGI worker runtime from Go: they start
// the interpreter with pyruntime.Bootstrap exactly as internal/worker
// starts a worker (runtime directory, app, threads, PYTHONPATH, MaxMeta,
// the hooks file and the age, then the interface, "asgi"), hand it one end of a socket pair as fd 3,
// and speak the frames of internal/frame with internal/marshal payloads,
// playing Go's side of the protocol by hand.

// debianPython has uvloop (python3-uvloop); the python3 first on PATH
// (pyenv's) has not, and so runs asyncio's loop.
const debianPython = "/usr/bin/python3"

// testPython runs every test but TestASGIHello (which runs under each
// interpreter): Debian's, or $GOWSGI_TEST_PYTHON (GOWSGI_TEST_PYTHON=python3
// runs the suite on asyncio's loop, pypy3 on PyPy).
var testPython = cmp.Or(os.Getenv("GOWSGI_TEST_PYTHON"), debianPython)

// A got is one frame from the worker: Ready's info, LoadError's text, or
// a stream's (stream, value) of Message, Credit or Done.
type got struct {
	typ frame.Type
	sid int64
	val any
}

// wire is Go's end of an ASGI worker's channel.
type wire struct {
	t       testing.TB
	nc      *net.UnixConn
	frames  chan got
	readErr error // why frames was closed
	pending map[int64][]got
	wmu     sync.Mutex
}

// newWire makes a socket pair: Go's end as a wire, and the worker's as a
// file to hand to the child as fd 3.
func newWire(t testing.TB) (*wire, *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours := os.NewFile(uintptr(fds[0]), "go-end")
	nc, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{t: t, nc: nc.(*net.UnixConn), frames: make(chan got, 1<<14), pending: map[int64][]got{}}
	t.Cleanup(func() { w.nc.Close() })
	go w.read()
	return w, os.NewFile(uintptr(fds[1]), "worker-end")
}

// read decodes every frame the worker sends, until EOF or an error.
func (w *wire) read() {
	defer close(w.frames)
	r := frame.NewReader(w.nc, 1<<20)
	for {
		typ, n, err := r.Next()
		if err != nil {
			w.readErr = err
			return
		}
		meta, err := r.Meta(typ, n)
		if err != nil {
			w.readErr = err
			return
		}
		g, err := decodeFrame(typ, bytes.Clone(meta))
		if err != nil {
			w.readErr = err
			return
		}
		w.frames <- g
	}
}

func decodeFrame(typ frame.Type, meta []byte) (got, error) {
	switch typ {
	case frame.LoadError:
		return got{typ: typ, val: string(meta)}, nil
	case frame.Ready, frame.Forked, frame.Reaped:
		v, err := marshal.Decode(meta)
		return got{typ: typ, val: v}, err
	case frame.Message, frame.Credit, frame.Done:
		v, err := marshal.Decode(meta)
		if err != nil {
			return got{}, err
		}
		tup, ok := v.(marshal.Tuple)
		if !ok || len(tup) != 2 {
			return got{}, fmt.Errorf("%v frame: want (stream, value), got %#v", typ, v)
		}
		sid, ok := tup[0].(int64)
		if !ok {
			return got{}, fmt.Errorf("%v frame: stream %#v", typ, tup[0])
		}
		return got{typ: typ, sid: sid, val: tup[1]}, nil
	case frame.Head:
		// The compact forms read as the Message dicts they stand for.
		v, err := marshal.Decode(meta)
		if err != nil {
			return got{}, err
		}
		tup, ok := v.(marshal.Tuple)
		if !ok || len(tup) != 4 {
			return got{}, fmt.Errorf("Head frame: want (stream, status, headers, trailers), got %#v", v)
		}
		sid, ok := tup[0].(int64)
		if !ok {
			return got{}, fmt.Errorf("Head frame: stream %#v", tup[0])
		}
		return got{typ: frame.Message, sid: sid, val: map[any]any{"type": "http.response.start",
			"status": tup[1], "headers": tup[2], "trailers": tup[3]}}, nil
	case frame.Piece:
		if len(meta) < 5 || meta[4] > 1 {
			return got{}, fmt.Errorf("Piece frame of %d bytes, more_body %v", len(meta), meta[4:])
		}
		sid := int64(int32(binary.LittleEndian.Uint32(meta)))
		return got{typ: frame.Message, sid: sid, val: map[any]any{"type": "http.response.body",
			"body": meta[5:], "more_body": meta[4] == 1}}, nil
	}
	return got{}, fmt.Errorf("unexpected %v frame", typ)
}

// send writes one frame of (stream, value).
func (w *wire) send(typ frame.Type, sid int64, v any) {
	w.t.Helper()
	w.write(appendFrame(w.t, nil, typ, sid, v))
}

// appendFrame appends a frame of (stream, value) to b.
func appendFrame(t testing.TB, b []byte, typ frame.Type, sid int64, v any) []byte {
	t.Helper()
	payload, err := marshal.AppendValue(nil, marshal.Tuple{sid, v})
	if err != nil {
		t.Fatal(err)
	}
	return append(frame.AppendHeader(b, typ, len(payload)), payload...)
}

// write writes b in one write.
func (w *wire) write(b []byte) {
	w.t.Helper()
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if _, err := w.nc.Write(b); err != nil {
		w.t.Fatalf("writing to the worker: %v", err)
	}
}

func (w *wire) open(sid int64, scope map[string]any) { w.send(frame.Open, sid, scope) }
func (w *wire) msg(sid int64, m map[string]any)      { w.send(frame.Message, sid, m) }
func (w *wire) credit(sid int64, n int)              { w.send(frame.Credit, sid, n) }

// request sends an http.request message.
func (w *wire) request(sid int64, body string, more bool) {
	w.msg(sid, map[string]any{"type": "http.request", "body": []byte(body), "more_body": more})
}

// closeWrite shuts Go's side, as Process.Stop does.
func (w *wire) closeWrite() { w.nc.CloseWrite() }

// recv returns the next frame from the worker, failing the test if none
// comes within proctest.Timeout.
func (w *wire) recv() got {
	w.t.Helper()
	select {
	case g, ok := <-w.frames:
		if !ok {
			w.t.Fatalf("channel ended: %v", w.readErr)
		}
		return g
	case <-time.After(proctest.Timeout):
		w.t.Fatalf("no frame from the worker in %v", proctest.Timeout)
	}
	panic("unreachable")
}

// next returns the next frame of stream sid, keeping those of others.
func (w *wire) next(sid int64) got {
	w.t.Helper()
	if q := w.pending[sid]; len(q) > 0 {
		w.pending[sid] = q[1:]
		return q[0]
	}
	for {
		g := w.recv()
		if g.sid == sid && g.typ != frame.Ready && g.typ != frame.LoadError && g.typ != frame.Forked && g.typ != frame.Reaped {
			return g
		}
		w.pending[g.sid] = append(w.pending[g.sid], g)
	}
}

// eof waits for the worker to close its side, after its last frame.
func (w *wire) eof() {
	w.t.Helper()
	for {
		select {
		case g, ok := <-w.frames:
			if !ok {
				if w.readErr != io.EOF {
					w.t.Fatalf("channel ended with %v, want EOF", w.readErr)
				}
				return
			}
			w.pending[g.sid] = append(w.pending[g.sid], g)
		case <-time.After(proctest.Timeout):
			w.t.Fatalf("the worker did not close its channel in %v", proctest.Timeout)
		}
	}
}

// response is what the worker sent on one http stream, up to its Done.
type response struct {
	start    map[any]any   // http.response.start
	body     []byte        // the bodies, joined
	bodies   []map[any]any // each http.response.body
	others   []map[any]any // any other message (trailers, pathsend, ...)
	credits  int           // what the worker credited Go with
	done     bool
	trace    any // Done's: nil or the traceback
	complete bool
}

// collect reads stream sid until its Done, crediting each body as Go does
// once it has written it to the client.
func (w *wire) collect(sid int64) *response {
	w.t.Helper()
	r := &response{}
	for !r.done {
		w.take(sid, r, true)
	}
	return r
}

// take reads one frame of sid into r; with credit, credits a body.
func (w *wire) take(sid int64, r *response, credit bool) {
	w.t.Helper()
	g := w.next(sid)
	switch g.typ {
	case frame.Done:
		r.done, r.trace = true, g.val
	case frame.Credit:
		r.credits += int(g.val.(int64))
	case frame.Message:
		m := g.val.(map[any]any)
		switch m["type"] {
		case "http.response.start", "websocket.http.response.start":
			r.start = m
		case "http.response.body", "websocket.http.response.body":
			b := m["body"].([]byte)
			r.body = append(r.body, b...)
			r.bodies = append(r.bodies, m)
			r.complete = m["more_body"] == false
			if credit && len(b) > 0 {
				w.credit(sid, len(b))
			}
		default:
			r.others = append(r.others, m)
		}
	}
}

// get opens an http stream for path and query with an empty GET request
// and returns what the worker answered.
func (w *wire) get(sid int64, path, query string) *response {
	w.t.Helper()
	w.open(sid, httpScope("GET", path, query))
	w.request(sid, "", false)
	return w.collect(sid)
}

// httpScope is the scope Go fills for a request (all but state and asgi).
func httpScope(method, path, query string) map[string]any {
	return map[string]any{
		"type":         "http",
		"http_version": "1.1",
		"method":       method,
		"scheme":       "http",
		"path":         path,
		"raw_path":     []byte(path),
		"query_string": []byte(query),
		"root_path":    "",
		"headers":      [][2][]byte{{[]byte("host"), []byte("example.com")}, {[]byte("x-dup"), []byte("1")}, {[]byte("x-dup"), []byte("2")}},
		"client":       []any{"127.0.0.1", 51000},
		"server":       []any{"127.0.0.1", 8000},
		"extensions":   map[string]any{"http.response.pathsend": map[string]any{}},
	}
}

// wsScope is a websocket scope with the client's subprotocols.
func wsScope(path string, subprotocols ...any) map[string]any {
	s := httpScope("GET", path, "")
	delete(s, "method")
	s["type"], s["scheme"] = "websocket", "ws"
	s["subprotocols"] = append([]any{}, subprotocols...)
	s["extensions"] = map[string]any{"websocket.http.response": map[string]any{}}
	return s
}

// installRuntime writes the runtime for one test and returns its directory.
func installRuntime(t testing.TB) string {
	t.Helper()
	dir, err := pyruntime.Install(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func testdata(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// spawn starts python as an ASGI worker of spec, as internal/worker does,
// with env added to the test's environment.
func spawn(t testing.TB, python, spec string, env ...string) (*proctest.Process, *wire) {
	t.Helper()
	w, theirs := newWire(t)
	defer theirs.Close()
	cmd := exec.Command(python, "-c", pyruntime.Bootstrap, installRuntime(t),
		spec, "1", testdata(t), strconv.Itoa(frame.MaxMeta), "", "1", "asgi")
	cmd.Dir = testdata(t)
	cmd.Env = append(os.Environ(), env...)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return proctest.Start(t, cmd), w
}

// ready waits for the worker's first frame, which must be Ready, and
// returns its info.
func (w *wire) ready() map[any]any {
	w.t.Helper()
	g := w.recv()
	if g.typ != frame.Ready {
		w.t.Fatalf("first frame: %v %v, want Ready", g.typ, g.val)
	}
	return g.val.(map[any]any)
}

// startASGI starts a worker of spec and waits until it is ready.
func startASGI(t testing.TB, python, spec string, env ...string) (*proctest.Process, *wire, map[any]any) {
	t.Helper()
	p, w := spawn(t, python, spec, env...)
	return p, w, w.ready()
}
