package admin

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Metrics counts requests for /metrics: by method and status class, and
// a histogram of their durations. Feed it with Observe, as from an
// accesslog.Config's Observe. The zero value is not usable: use
// NewMetrics.
type Metrics struct {
	mu       sync.Mutex
	requests map[requestKey]uint64
	buckets  []uint64 // counts per bound of latencyBounds, not cumulative; then +Inf
	sum      float64  // seconds
	count    uint64
}

type requestKey struct{ method, class string }

// latencyBounds are the upper bounds, in seconds, of the latency
// histogram's buckets: Prometheus's defaults.
var latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// NewMetrics returns empty Metrics.
func NewMetrics() *Metrics {
	return &Metrics{requests: make(map[requestKey]uint64), buckets: make([]uint64, len(latencyBounds)+1)}
}

// Observe counts a request with method whose response had status and
// which took d.
func (m *Metrics) Observe(method string, status int, d time.Duration) {
	key := requestKey{methodLabel(method), statusClass(status)}
	s := d.Seconds()
	i := 0
	for i < len(latencyBounds) && s > latencyBounds[i] {
		i++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[key]++
	m.buckets[i]++
	m.sum += s
	m.count++
}

// methodLabel bounds the method label to the standard methods, so that
// clients cannot make series at will.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// statusClass is "2xx" for 200 to 299, and so on.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// snapshot copies the counters.
func (m *Metrics) snapshot() (requests map[requestKey]uint64, buckets []uint64, sum float64, count uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	requests = make(map[requestKey]uint64, len(m.requests))
	for k, v := range m.requests {
		requests[k] = v
	}
	return requests, append([]uint64(nil), m.buckets...), m.sum, m.count
}
