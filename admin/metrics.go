package admin

import (
	"math"
	"net/http"
	"sync/atomic"
	"time"
)

// Metrics counts requests for /metrics and the status page's charts: by
// method and status class, and a histogram of their durations. Feed it
// with Observe, as from an accesslog.Config's Observe; Observe takes no
// lock and allocates nothing (atomic counters). The zero value is not
// usable: use NewMetrics.
type Metrics struct {
	requests [len(methods) + 1][len(classes) + 1]atomic.Uint64 // the last of each is "other"
	buckets  [len(fineBounds) + 1]atomic.Uint64                // per bound of fineBounds, not cumulative; then +Inf
	nanos    atomic.Int64                                      // sum of the durations
}

// methods and classes are the labels of gowsgi_http_requests_total, so
// that clients cannot make series at will; any other is "other".
var (
	methods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}
	classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}
)

// latencyBounds are the upper bounds, in seconds, of the buckets of
// /metrics's latency histogram: Prometheus's defaults.
var latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// fineBounds are the upper bounds, in seconds, of the buckets Metrics
// counts in: a 1-2.5-5 series from 100µs to 60s, finer than
// latencyBounds (every one of which is among them) so that the charts'
// p50 and p99 are not all 2.5ms.
var fineBounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	0.5, 1, 2.5, 5, 10, 25, 60}

// NewMetrics returns empty Metrics.
func NewMetrics() *Metrics { return new(Metrics) }

// Observe counts a request with method whose response had status and
// which took d.
func (m *Metrics) Observe(method string, status int, d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(fineBounds) && s > fineBounds[i] {
		i++
	}
	m.requests[methodIndex(method)][classIndex(status)].Add(1)
	m.buckets[i].Add(1)
	m.nanos.Add(int64(d))
}

func methodIndex(method string) int {
	for i, m := range methods {
		if m == method {
			return i
		}
	}
	return len(methods)
}

// classIndex is the index in classes of 2xx for 200 to 299, and so on.
func classIndex(status int) int {
	if status < 100 || status > 599 {
		return len(classes)
	}
	return status/100 - 1
}

func label(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return "other"
}

// histogram is a copy of Metrics's latency buckets.
type histogram [len(fineBounds) + 1]uint64

func (m *Metrics) histogram() (h histogram) {
	for i := range m.buckets {
		h[i] = m.buckets[i].Load()
	}
	return h
}

// count is the number of requests h holds.
func (h *histogram) count() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// minus is h less the counts of an earlier copy.
func (h histogram) minus(earlier histogram) histogram {
	for i := range h {
		h[i] -= earlier[i]
	}
	return h
}

// quantile estimates the q-quantile (0 < q < 1) of h in seconds, as
// Prometheus's histogram_quantile does: linearly within the bucket it
// falls in; the highest finite bound if it falls in +Inf. NaN if h is
// empty.
func (h *histogram) quantile(q float64) float64 {
	n := h.count()
	if n == 0 {
		return math.NaN()
	}
	rank := q * float64(n)
	var below uint64
	for i, c := range h {
		if c == 0 || float64(below+c) < rank {
			below += c
			continue
		}
		if i == len(fineBounds) {
			break
		}
		lower := 0.0
		if i > 0 {
			lower = fineBounds[i-1]
		}
		return lower + (fineBounds[i]-lower)*(rank-float64(below))/float64(c)
	}
	return fineBounds[len(fineBounds)-1]
}
