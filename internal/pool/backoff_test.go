package pool

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestEarlyDeathsBackOff: a worker that serves and then dies 1.05 s after
// it started, again and again, is restarted after ever longer delays
// (100, 200, 400, 800 ms), said in the log and by Backoff, and the fifth
// process starts no sooner than 800 ms after the fourth died. Only lower
// bounds on time are asserted: a loaded machine makes gaps longer, never
// shorter. Without backoff the log has no retry_in and the replacement
// starts at once.
func TestEarlyDeathsBackOff(t *testing.T) {
	p, logs := newPythonPool(t, Config{Workers: 1}, "shortlived:app")
	if err := p.Start(startCtx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := get(t, p); got != "short-lived" {
		t.Fatalf("response %q", got)
	}
	// Process 5 is up once four restarts are counted and a ready worker
	// is in the seat again.
	fifth := proctest.Poll(t, 60*time.Second, "four restarts", func() (time.Time, bool) {
		rs := p.RecentRestarts()
		ws := p.Workers()
		if len(rs) < 4 || len(ws) != 1 || ws[0].PID() == rs[len(rs)-1].PID {
			return time.Time{}, false
		}
		return time.Now().Add(-ws[0].Uptime()), true
	})
	died := p.RecentRestarts()[3].At
	if gap := fifth.Sub(died); gap < 800*time.Millisecond {
		t.Errorf("process 5 started %v after process 4 died; want at least the 800ms backoff", gap)
	}
	var delays []string
	for _, m := range regexp.MustCompile(`retry_in=(\S+)`).FindAllStringSubmatch(logs.String(), -1) {
		delays = append(delays, m[1])
	}
	if want := []string{"100ms", "200ms", "400ms", "800ms"}; len(delays) < 4 || !slices.Equal(delays[:4], want) {
		t.Errorf("backoffs in the log %v; want %v first:\n%s", delays, want, logs.String())
	}
	if b := p.Backoff(); b < 800*time.Millisecond {
		t.Errorf("Backoff %v after 4 early deaths in a row; want at least 800ms", b)
	}
}
