package main

import (
	"testing"
	"time"
)

// TestBodyDeadline: each read of a body gets --body-timeout from now and,
// with --body-min-rate, no more than the time the bytes read so far allow
// at that rate, --body-timeout after the body began.
func TestBodyDeadline(t *testing.T) {
	const d = time.Second
	cases := []struct {
		name  string
		rate  int64
		began time.Duration // before now
		read  int64
		want  time.Duration // from now
	}{
		{"no minimum rate", 0, time.Hour, 10, d},
		{"fast enough", 100, 2 * time.Second, 1000, d},
		{"too slow: a byte a second at 100", 100, 10 * time.Second, 10, -9*time.Second + 100*time.Millisecond},
		{"the grace at the start", 100, 0, 0, d},
		{"behind, the grace not over", 100, 500 * time.Millisecond, 0, 500 * time.Millisecond},
		{"decades of data", 1, 0, 1 << 62, d},
	}
	for _, tc := range cases {
		now := time.Now()
		b := &deadlineBody{d: d, rate: tc.rate, start: now.Add(-tc.began), read: tc.read}
		got := b.deadline().Sub(now)
		// deadline reads the clock between now and gap's end: a deadline
		// from then is want plus at most that gap (however long the
		// test was descheduled), one from the body's start is exact.
		gap := time.Since(now)
		if got < tc.want || got > tc.want+gap {
			t.Errorf("%s: deadline in %v; want %v (plus at most %v)", tc.name, got, tc.want, gap)
		}
	}
}
