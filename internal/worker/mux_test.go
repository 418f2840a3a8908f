package worker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"syscall"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
)

// fakeASGI is the worker's end of a Mux's channel, played by the test: it
// reads Go's frames and writes what a worker would.
type fakeASGI struct {
	t *testing.T
	f *os.File
	r *frame.Reader
	p *Process
	m *Mux

	first any // the first message of the last Open read, or nil
}

func newFakeASGI(t *testing.T) *fakeASGI {
	t.Helper()
	p := newProcess(Config{ID: 7, Logger: slog.New(slog.DiscardHandler), Interface: "asgi"}, "worker")
	c, theirs, err := socketPair(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.Conns = []*Conn{c}
	fw := &fakeASGI{t: t, f: theirs, r: frame.NewReader(theirs, 1<<16), p: p}
	p.run = fakeRunner{p}
	fw.m = newMux(p, c, 0)
	t.Cleanup(func() { fw.exit() })
	return fw
}

// exit is the worker ending: its end closes, then the process is gone.
func (fw *fakeASGI) exit() {
	fw.p.exited("exit status 0")
	fw.f.Close()
	<-fw.m.dead
}

// next reads Go's next frame: its type, stream and value (of an Open,
// the scope; its first message goes to fw.first).
func (fw *fakeASGI) next() (frame.Type, int64, any) {
	fw.t.Helper()
	typ, n, err := fw.r.Next()
	if err != nil {
		fw.t.Fatalf("reading Go's frame: %v", err)
	}
	meta, err := fw.r.Meta(typ, n)
	if err != nil {
		fw.t.Fatal(err)
	}
	if typ == frame.Open {
		v, err := marshal.DecodeOwned(meta)
		tup, ok := v.([]any)
		if err != nil || !ok || len(tup) != 3 {
			fw.t.Fatalf("Open frame: %v %v, want a (stream, scope, first) tuple", v, err)
		}
		fw.first = tup[2]
		if m, ok := tup[2].(map[string]any); ok {
			fw.first = Message(m)
		}
		return typ, tup[0].(int64), Message(tup[1].(map[string]any))
	}
	id, v, err := decodeFrame(new(marshal.OwnedDecoder), typ, meta)
	if err != nil {
		fw.t.Fatal(err)
	}
	return typ, id, v
}

func (fw *fakeASGI) send(typ frame.Type, id int64, v any) {
	fw.t.Helper()
	b, err := appendFrame(nil, typ, id, v)
	if err != nil {
		fw.t.Fatal(err)
	}
	if _, err := fw.f.Write(b); err != nil {
		fw.t.Fatal(err)
	}
}

// fakeRunner is the fake worker's process: a kill ends it.
type fakeRunner struct{ p *Process }

func (r fakeRunner) pid() int { return 0 }

func (r fakeRunner) signal(sig os.Signal) error {
	if sig == syscall.SIGKILL {
		go r.p.exited("signal: killed")
	}
	return nil
}

func body(n int, more bool) map[string]any {
	return map[string]any{"type": "http.response.body", "body": bytes.Repeat([]byte("x"), n), "more_body": more}
}

// TestMuxStream: Open carries the scope and the first message; the app's
// messages arrive in order, Done ends the stream with its traceback.
func TestMuxStream(t *testing.T) {
	fw := newFakeASGI(t)
	s, err := fw.m.Open(Message{"type": "http", "path": "/é"}, Message{"type": "http.request", "body": []byte("hi")}, "GET /")
	if err != nil {
		t.Fatal(err)
	}
	if typ, id, v := fw.next(); typ != frame.Open || id != s.ID() || v.(Message)["path"] != "/é" {
		t.Fatalf("first frame %v %d %v, want the Open", typ, id, v)
	}
	if m, ok := fw.first.(Message); !ok || string(m["body"].([]byte)) != "hi" {
		t.Fatalf("the Open's first message %v, want the first http.request", fw.first)
	}
	fw.send(frame.Message, s.ID(), map[string]any{"type": "http.response.start", "status": 200})
	fw.send(frame.Message, s.ID(), body(3, false))
	fw.send(frame.Done, s.ID(), "Traceback: boom")
	ctx := context.Background()
	for _, want := range []string{"http.response.start", "http.response.body"} {
		if msg, err := s.Recv(ctx); err != nil || msg["type"] != want {
			t.Fatalf("Recv: %v %v, want %s", msg, err, want)
		}
	}
	var ae *AppError
	if _, err := s.Recv(ctx); !errors.As(err, &ae) || ae.Traceback != "Traceback: boom" {
		t.Fatalf("Recv at Done: %v, want the traceback", err)
	}
	if fw.m.Len() != 0 {
		t.Errorf("%d streams open after Done", fw.m.Len())
	}
}

// TestMuxHeadPiece: the compact Head and Piece frames reach Recv as the
// http.response.start and body Messages they stand for; a Piece's body is
// its own copy, and a Piece whose more_body byte is not 0 or 1 is a
// protocol error.
func TestMuxHeadPiece(t *testing.T) {
	fw := newFakeASGI(t)
	s, err := fw.m.Open(Message{"type": "http"}, nil, "GET /")
	if err != nil {
		t.Fatal(err)
	}
	fw.next()
	headers := []any{[]any{[]byte("content-type"), []byte("text/plain")}}
	head, err := marshal.AppendValue(nil, marshal.Tuple{s.ID(), int64(200), headers, false})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.f.Write(append(frame.AppendHeader(nil, frame.Head, len(head)), head...)); err != nil {
		t.Fatal(err)
	}
	piece := func(more byte, body string) []byte {
		b := frame.AppendHeader(nil, frame.Piece, 5+len(body))
		b = binary.LittleEndian.AppendUint32(b, uint32(s.ID()))
		return append(append(b, more), body...)
	}
	if _, err := fw.f.Write(append(piece(1, "hel"), piece(0, "lo")...)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	msg, err := s.Recv(ctx)
	if err != nil || msg["type"] != "http.response.start" || msg["status"] != int64(200) || msg["trailers"] != false {
		t.Fatalf("Recv: %v %v, want the http.response.start", msg, err)
	}
	if h, ok := msg["headers"].(marshal.Pairs); !ok || len(h) != 1 || string(h[0][1]) != "text/plain" {
		t.Errorf("headers %#v, want the one sent", msg["headers"])
	}
	for _, want := range []struct {
		body string
		more bool
	}{{"hel", true}, {"lo", false}} {
		msg, err := s.Recv(ctx)
		if err != nil || msg["type"] != "http.response.body" || string(msg["body"].([]byte)) != want.body || msg["more_body"] != want.more {
			t.Fatalf("Recv: %v %v, want body %q more_body %v", msg, err, want.body, want.more)
		}
	}
	if _, err := fw.f.Write(piece(2, "x")); err != nil {
		t.Fatal(err)
	}
	<-fw.m.dead
	var pe *ProtocolError
	if _, err := s.Recv(ctx); !errors.As(err, &pe) {
		t.Errorf("after a Piece with more_body 2: %v, want a ProtocolError", err)
	}
}

// TestMuxWindow: Send waits once the worker has a window's worth of
// payload it has not credited, and goes on after its Credit.
func TestMuxWindow(t *testing.T) {
	fw := newFakeASGI(t)
	s, err := fw.m.Open(Message{"type": "http"}, nil, "POST /")
	if err != nil {
		t.Fatal(err)
	}
	if fw.next(); fw.first != nil {
		t.Fatalf("an Open without a first message carries %v, want None", fw.first)
	}
	ctx := context.Background()
	chunk := Message{"type": "http.request", "body": make([]byte, frame.Window/4), "more_body": true}
	for range 4 {
		if err := s.Send(ctx, chunk); err != nil {
			t.Fatal(err)
		}
		fw.next()
	}
	// The window is full: a Send waits, and gives up with its context.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Send(done, chunk); !errors.Is(err, context.Canceled) {
		t.Errorf("a Send past the window: %v, want it to wait", err)
	}
	if st := fw.m.Streams(); st[0].Unacked != frame.Window {
		t.Errorf("%d bytes unacknowledged, want the window, %d", st[0].Unacked, frame.Window)
	}
	sent := make(chan error, 1)
	go func() { sent <- s.Send(ctx, chunk) }()
	fw.send(frame.Credit, s.ID(), int64(frame.Window/4))
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if typ, _, _ := fw.next(); typ != frame.Message {
		t.Errorf("after the Credit: %v, want the Message", typ)
	}
	fw.send(frame.Done, s.ID(), nil)
	if _, err := s.Recv(ctx); err != io.EOF {
		t.Errorf("Recv at Done: %v, want io.EOF", err)
	}
	if err := s.Send(ctx, chunk); err != io.EOF {
		t.Errorf("Send after Done: %v, want io.EOF", err)
	}
}

// TestMuxDetach: a detached stream's payload is credited back at once, so
// that the app is never stuck, and Consumed credits what Go passed on.
func TestMuxDetach(t *testing.T) {
	fw := newFakeASGI(t)
	s, err := fw.m.Open(Message{"type": "http"}, nil, "GET /")
	if err != nil {
		t.Fatal(err)
	}
	fw.next()
	fw.send(frame.Message, s.ID(), body(10, true))
	if _, err := s.Recv(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Consumed(10)
	if typ, _, v := fw.next(); typ != frame.Credit || v != int64(10) {
		t.Fatalf("after Consumed(10): %v %v, want Credit 10", typ, v)
	}
	s.Detach()
	fw.send(frame.Message, s.ID(), body(1000, true))
	if typ, _, v := fw.next(); typ != frame.Credit || v != int64(1000) {
		t.Fatalf("after a detached stream's body: %v %v, want Credit 1000", typ, v)
	}
}

// TestMuxProtocolError: a frame for a stream that is not open kills the
// worker and ends its streams with a *LostError.
func TestMuxProtocolError(t *testing.T) {
	fw := newFakeASGI(t)
	s, err := fw.m.Open(Message{"type": "http"}, nil, "GET /")
	if err != nil {
		t.Fatal(err)
	}
	fw.next()
	fw.send(frame.Message, s.ID()+1, body(1, false))
	_, err = s.Recv(context.Background())
	var le *LostError
	var pe *ProtocolError
	if !errors.As(err, &le) || !errors.As(err, &pe) {
		t.Fatalf("Recv: %v, want a *LostError from a *ProtocolError", err)
	}
	if _, err := fw.m.Open(Message{"type": "http"}, nil, "GET /"); !errors.Is(err, ErrStreamRefused) {
		t.Errorf("Open on a dead worker: %v, want ErrStreamRefused", err)
	}
}

// TestAppendFrameRefuses: a value marshal cannot carry is an error, and
// nothing is appended.
func TestAppendFrameRefuses(t *testing.T) {
	b, err := appendFrame([]byte("keep"), frame.Message, 1, map[string]any{"bad": 1.5})
	if err == nil || string(b) != "keep" {
		t.Errorf("appendFrame: %q, %v", b, err)
	}
	if _, err := marshal.AppendValue(nil, Message{"ok": true}); err != nil {
		t.Errorf("a Message: %v", err)
	}
}

// TestMuxGatheredWrites: streams that open and send at once, their frames
// gathered into shared writes, each reach the worker whole and in the
// order each stream sent them.
func TestMuxGatheredWrites(t *testing.T) {
	fw := newFakeASGI(t)
	const streams, msgs = 16, 100
	errs := make(chan error, streams)
	for range streams {
		go func() {
			s, err := fw.m.Open(Message{"type": "http"}, nil, "POST /")
			if err != nil {
				errs <- err
				return
			}
			for i := range msgs {
				msg := Message{"type": "http.request", "body": []byte{byte(i)}, "more_body": true}
				if err := s.Send(context.Background(), msg); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	next := map[int64]int{} // stream: the body byte its next message must carry
	for range streams * (msgs + 1) {
		typ, id, v := fw.next()
		switch n, open := next[id]; {
		case typ == frame.Open && !open:
			next[id] = 0
		case typ == frame.Message && open:
			if b := v.(Message)["body"].([]byte); len(b) != 1 || int(b[0]) != n {
				t.Fatalf("stream %d: message %v, want body [%d]", id, v, n)
			}
			next[id] = n + 1
		default:
			t.Fatalf("stream %d: %v frame out of order (open: %v)", id, typ, open)
		}
	}
	for range streams {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for id, n := range next {
		if n != msgs {
			t.Errorf("stream %d: %d messages, want %d", id, n, msgs)
		}
	}
}

// TestStreamInterrupt: Interrupt ends a Recv that waits, and the next ones
// once the queue is drained, with ErrInterrupted; what is queued comes
// first.
func TestStreamInterrupt(t *testing.T) {
	fw := newFakeASGI(t)
	s, err := fw.m.Open(Message{"type": "http"}, nil, "GET /")
	if err != nil {
		t.Fatal(err)
	}
	fw.next() // Open
	ctx := context.Background()
	got := make(chan error)
	go func() {
		_, err := s.Recv(ctx)
		got <- err
	}()
	s.Interrupt()
	if err := <-got; !errors.Is(err, ErrInterrupted) {
		t.Fatalf("waiting Recv after Interrupt: %v, want ErrInterrupted", err)
	}
	queued := make(chan struct{})
	s.Notify(func() { close(queued) })
	fw.send(frame.Message, s.ID(), body(1, false))
	<-queued
	if msg, err := s.Recv(ctx); err != nil || msg["type"] != "http.response.body" {
		t.Fatalf("Recv with a message queued: %v %v, want it", msg, err)
	}
	if _, err := s.Recv(ctx); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Recv once drained: %v, want ErrInterrupted", err)
	}
}

// TestStreamDone: Done, made when first asked for, is closed at the
// stream's end whether it was asked for before the end or after.
func TestStreamDone(t *testing.T) {
	fw := newFakeASGI(t)
	ctx := context.Background()
	before, err := fw.m.Open(Message{"type": "http"}, nil, "GET /a")
	if err != nil {
		t.Fatal(err)
	}
	fw.next()
	after, err := fw.m.Open(Message{"type": "http"}, nil, "GET /b")
	if err != nil {
		t.Fatal(err)
	}
	fw.next()
	done := before.Done()
	select {
	case <-done:
		t.Fatal("Done closed before the stream ended")
	default:
	}
	fw.send(frame.Done, before.ID(), nil)
	fw.send(frame.Done, after.ID(), nil)
	for _, s := range []*Stream{before, after} {
		if _, err := s.Recv(ctx); err != io.EOF {
			t.Fatalf("Recv at Done: %v, want io.EOF", err)
		}
	}
	for name, c := range map[string]<-chan struct{}{"asked before": done, "asked after": after.Done()} {
		select {
		case <-c:
		default:
			t.Errorf("Done %s the end is not closed once Recv saw the end", name)
		}
	}
}

// TestMuxOpenRaw: a scope passed as a marshal.Raw, or a pointer to one,
// reaches the worker as the Message it was made from.
func TestMuxOpenRaw(t *testing.T) {
	fw := newFakeASGI(t)
	raw, err := marshal.AppendValue(nil, map[string]any{"type": "http", "path": "/raw"})
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []any{marshal.Raw(raw), (*marshal.Raw)(&raw)} {
		s, err := fw.m.Open(scope, nil, "GET /raw")
		if err != nil {
			t.Fatal(err)
		}
		if typ, id, v := fw.next(); typ != frame.Open || id != s.ID() || v.(Message)["path"] != "/raw" {
			t.Errorf("%T scope: frame %v %d %v, want the Open with path /raw", scope, typ, id, v)
		}
	}
}
