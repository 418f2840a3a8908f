package pool

import (
	"strings"
	"testing"
	"time"
)

// TestEarlyDeathsBackOff: a worker that serves and then dies 1.05 s after
// it started, again and again, is restarted after ever longer delays, said
// in the log and by Backoff. Without backoff the gaps between its starts
// stay at about 1.1 s.
func TestEarlyDeathsBackOff(t *testing.T) {
	p, logs := newPythonPool(t, Config{Workers: 1}, "shortlived:app")
	if err := p.Start(startCtx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := get(t, p); got != "short-lived" {
		t.Fatalf("response %q", got)
	}
	// The restarts, processes 2 to 5: backoffs of 100, 200, 400 and 800 ms
	// precede them.
	var starts []time.Time
	seen := p.Workers()[0]
	deadline := time.Now().Add(30 * time.Second)
	for len(starts) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d restarts in 30 s; log:\n%s", len(starts), logs.String())
		}
		if ws := p.Workers(); len(ws) == 1 && ws[0] != seen {
			seen = ws[0]
			starts = append(starts, time.Now())
		}
		time.Sleep(5 * time.Millisecond)
	}
	first, last := starts[1].Sub(starts[0]), starts[3].Sub(starts[2])
	// Each gap is the worker's life (about 1.1 s) plus a backoff: 200 ms
	// before process 3, 800 ms before process 5. Both lives are alike on
	// any machine, so the gaps differ by about 600 ms.
	if last-first < 400*time.Millisecond {
		t.Errorf("gaps between restarts %v then %v: the delay does not grow", first, last)
	}
	if b := p.Backoff(); b < 800*time.Millisecond {
		t.Errorf("Backoff %v after 4 early deaths in a row; want at least 800ms", b)
	}
	if !strings.Contains(logs.String(), "backing off before the restart") {
		t.Errorf("the log does not say it backs off:\n%s", logs.String())
	}
}
