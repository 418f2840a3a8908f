package pyruntime_test

import (
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
)

// TestASGIPing: Go's ping, a Credit for stream 0 (never open), comes back
// from the worker's loop as the same frame; a Credit for another stream
// that is not open is dropped.
func TestASGIPing(t *testing.T) {
	_, w, _ := startASGI(t, testPython, "asgiapp:app")
	w.credit(7, 5) // not open: nothing comes back
	w.credit(0, 0)
	if g := w.next(0); g.typ != frame.Credit || g.val != int64(0) {
		t.Fatalf("answer to a ping: %v %v, want Credit(0, 0)", g.typ, g.val)
	}
	if r := w.get(1, "/hello", ""); r.start["status"] != int64(200) {
		t.Errorf("a request after the ping: %v", r.start)
	}
}
