package admin

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// sample is one point of the status page's charts: what the server did
// in the interval up to At, and its state at At.
type sample struct {
	Seq      uint64         `json:"seq"` // 1 for the first sample Run took, and so on
	At       time.Time      `json:"at"`
	Requests uint64         `json:"requests"`      // completed in the interval
	Rate     float64        `json:"rate"`          // of them, per second
	P50      *float64       `json:"p50,omitempty"` // seconds, of those requests; none if there were none
	P99      *float64       `json:"p99,omitempty"`
	Queue    int            `json:"queue"` // requests waiting for a worker thread
	Busy     int            `json:"busy"`  // worker threads busy
	Idle     int            `json:"idle"`
	Memory   []workerMemory `json:"memory"` // of each worker that reports it

	cum histogram // Metrics's latency histogram at At
}

type workerMemory struct {
	Worker int   `json:"worker"`
	RSS    int64 `json:"rss"` // bytes
}

// history is a bounded ring of samples, the newest replacing the oldest.
type history struct {
	mu      sync.Mutex
	ring    []sample // oldest at start once full
	start   int
	size    int
	seq     uint64
	base    histogram // before the oldest sample's interval
	last    histogram // at the newest sample, or Run's start
	lastAt  time.Time
	started bool
}

func newHistory(size int) *history {
	return &history{ring: make([]sample, 0, max(size, 1)), size: max(size, 1)}
}

// begin sets the counters that the first sample's interval starts from.
func (hs *history) begin(now time.Time, cum histogram) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.base, hs.last, hs.lastAt, hs.started = cum, cum, now, true
}

// add takes a sample at now of st and of the latency histogram cum.
func (hs *history) add(now time.Time, st wsgi.Stats, cum histogram) {
	s := sample{At: now, Queue: st.Waiting, cum: cum}
	s.Busy, s.Idle = threads(st)
	for _, ws := range st.Workers {
		if ws.RSS > 0 {
			s.Memory = append(s.Memory, workerMemory{ws.ID, ws.RSS})
		}
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if !hs.started {
		hs.base, hs.last, hs.lastAt, hs.started = cum, cum, now, true
	}
	delta := cum.minus(hs.last)
	s.Requests = delta.count()
	if dt := now.Sub(hs.lastAt).Seconds(); dt > 0 {
		s.Rate = float64(s.Requests) / dt
	}
	s.P50, s.P99 = finite(delta.quantile(0.5)), finite(delta.quantile(0.99))
	hs.seq++
	s.Seq = hs.seq
	hs.last, hs.lastAt = cum, now
	if len(hs.ring) < hs.size {
		hs.ring = append(hs.ring, s)
		return
	}
	hs.base = hs.ring[hs.start].cum
	hs.ring[hs.start] = s
	hs.start = (hs.start + 1) % hs.size
}

// after returns the samples newer than seq, oldest first, and the
// latency histogram of the requests of all the samples kept, and the
// newest sample's Seq.
func (hs *history) after(seq uint64) ([]sample, histogram, uint64) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	var out []sample
	for i := range hs.ring {
		if s := hs.ring[(hs.start+i)%len(hs.ring)]; s.Seq > seq {
			out = append(out, s)
		}
	}
	return out, hs.last.minus(hs.base), hs.seq
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Run samples the server every Config.Interval for the status page's
// charts, keeping the samples of the last Config.Window, until ctx is
// done; it returns ctx's error. Without Run the charts stay empty (the
// tables and /metrics do not need it). Call it once.
func (h *Handler) Run(ctx context.Context) error {
	tick := time.NewTicker(h.cfg.Interval)
	defer tick.Stop()
	h.history.begin(time.Now(), h.latency())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			// The ticker's time may be late; the interval is what passed.
			h.history.add(time.Now(), h.cfg.Stats(), h.latency())
		}
	}
}

// latency is the latency histogram now; empty without Metrics.
func (h *Handler) latency() histogram {
	if h.cfg.Metrics == nil {
		return histogram{}
	}
	return h.cfg.Metrics.histogram()
}
