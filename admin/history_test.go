package admin

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// TestHistory feeds a ring of three samples at fake times: each sample
// has its interval's requests, rate and quantiles, the oldest make way,
// and the window's histogram is that of the samples kept.
func TestHistory(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	steps := []struct {
		after    time.Duration // since the previous step
		observed []time.Duration
		waiting  int
		want     sample // Seq, Requests, Rate, Queue; P50 and P99 if not nil
		kept     []uint64
		window   uint64 // requests in the samples kept
	}{
		{time.Second, repeat(2*ms, 4), 1, sample{Seq: 1, Requests: 4, Rate: 4, Queue: 1, P50: ptr(0.00175)}, []uint64{1}, 4},
		{2 * time.Second, repeat(2*ms, 10), 0, sample{Seq: 2, Requests: 10, Rate: 5}, []uint64{1, 2}, 14},
		{time.Second, nil, 7, sample{Seq: 3, Queue: 7}, []uint64{1, 2, 3}, 14},
		{500 * ms, append(repeat(ms/2, 98), repeat(300*ms, 2)...), 0,
			sample{Seq: 4, Requests: 100, Rate: 200, P50: ptr(0.00025 + 0.00025*50/98), P99: ptr(0.375)}, []uint64{2, 3, 4}, 110},
		{time.Second, repeat(time.Second, 1), 0, sample{Seq: 5, Requests: 1, Rate: 1}, []uint64{3, 4, 5}, 101},
	}
	m := NewMetrics()
	hs := newHistory(3)
	now := t0
	hs.begin(now, m.histogram())
	for i, step := range steps {
		for _, d := range step.observed {
			m.Observe("GET", 200, d)
		}
		now = now.Add(step.after)
		st := wsgi.Stats{Waiting: step.waiting, Workers: []wsgi.WorkerStats{{ID: 3, State: "ready", Threads: 2, RSS: int64(i+1) << 20,
			Requests: []wsgi.RequestStats{{}}}, {ID: 4, State: "starting", Threads: 2}}}
		hs.add(now, st, m.histogram())
		got, window, seq := hs.after(0)
		if seq != step.want.Seq {
			t.Errorf("step %d: seq %d; want %d", i, seq, step.want.Seq)
		}
		var seqs []uint64
		for _, s := range got {
			seqs = append(seqs, s.Seq)
		}
		if !equal(seqs, step.kept) {
			t.Errorf("step %d: samples kept %v; want %v", i, seqs, step.kept)
		}
		if window.count() != step.window {
			t.Errorf("step %d: window has %d requests; want %d", i, window.count(), step.window)
		}
		s, w := got[len(got)-1], step.want
		if s.Seq != w.Seq || s.Requests != w.Requests || s.Rate != w.Rate || s.Queue != w.Queue || !s.At.Equal(now) {
			t.Errorf("step %d: sample %+v; want %+v at %v", i, s, w, now)
		}
		if s.Busy != 1 || s.Idle != 1 || len(s.Memory) != 1 || s.Memory[0] != (workerMemory{3, int64(i+1) << 20}) {
			t.Errorf("step %d: busy %d idle %d memory %v; want 1, 1 and worker 3's %d MiB", i, s.Busy, s.Idle, s.Memory, i+1)
		}
		for _, q := range []struct {
			name      string
			got, want *float64
		}{{"p50", s.P50, w.P50}, {"p99", s.P99, w.P99}} {
			if w.Requests == 0 && q.got != nil {
				t.Errorf("step %d: %s %v with no requests", i, q.name, *q.got)
			}
			if q.want != nil && (q.got == nil || math.Abs(*q.got-*q.want) > 1e-12) {
				t.Errorf("step %d: %s %v; want %v", i, q.name, deref(q.got), *q.want)
			}
		}
		if newer, _, _ := hs.after(step.want.Seq - 1); len(newer) != 1 || newer[0].Seq != step.want.Seq {
			t.Errorf("step %d: after(%d) = %d samples; want the newest only", i, step.want.Seq-1, len(newer))
		}
	}
}

func ptr(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRun runs the sampler under a fake clock (testing/synctest): it
// takes a sample each Interval, keeps Window's worth, /status.json
// serves them, and it returns once its context is done.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMetrics()
		var waiting atomic.Int64
		h := New(Config{Metrics: m, Interval: time.Second, Window: 4 * time.Second,
			Stats: func() wsgi.Stats { return wsgi.Stats{Waiting: int(waiting.Load())} }})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		synctest.Wait() // Run has begun and waits for its first tick
		start := time.Now()
		for i := 1; i <= 6; i++ {
			for range i {
				m.Observe("GET", 200, 3*time.Millisecond)
			}
			waiting.Store(int64(i))
			time.Sleep(time.Second)
			synctest.Wait() // Run has taken the sample
		}
		doc := statusOf(t, h, "/status.json")
		if doc.Seq != 6 || len(doc.Samples) != 4 {
			t.Fatalf("seq %d, %d samples; want 6 and the last 4", doc.Seq, len(doc.Samples))
		}
		for i, s := range doc.Samples {
			n := uint64(i + 3)
			if s.Seq != n || s.Requests != n || s.Rate != float64(n) || s.Queue != int(n) || !s.At.Equal(start.Add(time.Duration(n)*time.Second)) {
				t.Errorf("sample %d: %+v; want seq, requests, rate and queue %d at %v", i, s, n, start.Add(time.Duration(n)*time.Second))
			}
		}
		if doc.Requests != 3+4+5+6 || doc.P50 == nil || *doc.P50 <= 0.0025 || *doc.P50 > 0.005 {
			t.Errorf("window: %d requests, p50 %v; want 18 in (2.5ms, 5ms]", doc.Requests, deref(doc.P50))
		}
		if doc := statusOf(t, h, "/status.json?after=5"); len(doc.Samples) != 1 || doc.Samples[0].Seq != 6 {
			t.Errorf("?after=5: %+v; want sample 6 alone", doc.Samples)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v; want context.Canceled", err)
		}
	})
}

func statusOf(t *testing.T, h *Handler, path string) statusDoc {
	t.Helper()
	code, body, hdr := get(t, h, path)
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s %s", path, code, hdr.Get("Content-Type"), body)
	}
	var doc statusDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("GET %s: %v:\n%s", path, err, body)
	}
	return doc
}

// TestStatusJSON checks the tables' half of /status.json, from a fake
// container, and that ?after must be a number.
func TestStatusJSON(t *testing.T) {
	h := New(Config{Stats: fakeStats, Title: "site", Ready: func() bool { return false }})
	doc := statusOf(t, h, "/status.json")
	want := []workerDoc{{0, 100, "ready", 4, 2, 10, 30 << 20, 3600}, {1, 101, "starting", 4, 0, 0, 0, 1}}
	if len(doc.Workers) != 2 || doc.Workers[0] != want[0] || doc.Workers[1] != want[1] {
		t.Errorf("workers %+v; want %+v", doc.Workers, want)
	}
	if len(doc.InFlight) != 2 || doc.InFlight[0] != (inFlightDoc{0, 0, "GET /slow?<x>", 1.5}) {
		t.Errorf("in flight %+v", doc.InFlight)
	}
	if doc.Title != "site" || doc.Ready || doc.Waiting != 3 || doc.Busy != 2 || doc.Idle != 2 || doc.Restarts["died"] != 2 ||
		doc.Interval != 1 || doc.Window != 300 || doc.Seq != 0 || len(doc.Samples) != 0 || doc.Requests != 0 || doc.P50 != nil {
		t.Errorf("status.json: %+v", doc)
	}
	for _, bad := range []string{"x", "-1", "1.5"} {
		code, body, _ := get(t, h, "/status.json?after="+bad)
		if code != 400 || !strings.Contains(body, `after="`+bad+`"`) {
			t.Errorf("?after=%s: %d %q; want 400 naming it", bad, code, body)
		}
	}
	// Without Stats, empty lists, not nulls, for the page's script.
	if _, body, _ := get(t, New(Config{}), "/status.json"); !strings.Contains(body, `"workers":[]`) ||
		!strings.Contains(body, `"samples":[]`) || !strings.Contains(body, `"inFlight":[]`) {
		t.Errorf("empty status.json: %s", body)
	}
}
