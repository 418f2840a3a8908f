package admin

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestLatencyBoundsAreFine checks that each of /metrics's bucket bounds
// is one of fineBounds, which /metrics sums up to them.
func TestLatencyBoundsAreFine(t *testing.T) {
	for _, b := range latencyBounds {
		if !slices.Contains(fineBounds[:], b) {
			t.Errorf("latency bound %v is not among fineBounds", b)
		}
	}
}

func TestQuantile(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name     string
		observed []time.Duration
		q        float64
		want     float64 // seconds; NaN for none
	}{
		{"empty", nil, 0.5, math.NaN()},
		// Ten requests in (1ms, 2.5ms]: the median is halfway through it.
		{"one bucket", repeat(2*ms, 10), 0.5, 0.00175},
		{"one bucket p99", repeat(2*ms, 10), 0.99, 0.001 + 0.0015*0.99},
		// 98 fast ones and 2 slow: p50 among the fast, p99 among the slow.
		{"p50 of two", append(repeat(ms/2, 98), repeat(300*ms, 2)...), 0.5, 0.00025 + 0.00025*50/98},
		{"p99 of two", append(repeat(ms/2, 98), repeat(300*ms, 2)...), 0.99, 0.25 + 0.25*1/2},
		// Beyond the last bound, the last bound.
		{"over", repeat(2*time.Minute, 3), 0.5, 60},
		{"first bucket", repeat(50*time.Microsecond, 4), 0.5, 0.00005},
	}
	for _, tc := range cases {
		m := NewMetrics()
		for _, d := range tc.observed {
			m.Observe("GET", 200, d)
		}
		h := m.histogram()
		got := h.quantile(tc.q)
		if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: quantile(%v) = %v; want %v", tc.name, tc.q, got, tc.want)
		}
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = d
	}
	return ds
}

// TestObserveAllocs checks that counting a request costs no allocation:
// it is on every request's path.
func TestObserveAllocs(t *testing.T) {
	m := NewMetrics()
	if n := testing.AllocsPerRun(100, func() { m.Observe("PATCH", 404, 3*time.Millisecond) }); n != 0 {
		t.Errorf("Observe allocates %v times; want 0", n)
	}
}
