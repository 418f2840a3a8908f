// Package admin serves the operational endpoints of a gowsgi server, on an
// address of their own (not the application's):
//
//   - /metrics: Prometheus text exposition format (version 0.0.4):
//     requests by method and status class and a latency histogram (from
//     Metrics), queue depth, busy and idle worker threads, workers by
//     state, restarts by reason and each worker's resident memory (from
//     the container's Stats), and readiness.
//   - /healthz: 200 while the process is alive.
//   - /readyz: 200 while the server takes requests, else 503: before the
//     application has started and once a graceful stop has begun, so that
//     a load balancer stops sending traffic first.
//   - /: a status page for a person: workers, requests in flight with
//     their age, restarts, and live charts of the last minutes (requests
//     per second, p50 and p99 latency, queue depth, busy threads, each
//     worker's memory), drawn by a small embedded script from
//     /status.json; without the script, the tables alone.
//   - /status.json: what the page shows, with the samples that Run takes
//     (every second, the last 5 minutes of them by default).
//
// It is one of the four packages that gowsgi serve composes around a
// wsgi.Container, and a Go program composes the same way (see the wsgi
// package's Example (middleware)): forwarded, accesslog and static in front
// of it, in that order, and admin beside it, on an address of its own.
package admin

import (
	"io"
	"net/http"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// Config configures the admin Handler. Every field may be left zero.
type Config struct {
	// Stats returns a snapshot of the container, as wsgi.Container.Stats;
	// nil means no worker metrics.
	Stats func() wsgi.Stats

	// Metrics holds the request counters; nil means no request metrics.
	Metrics *Metrics

	// Ready reports whether the server takes requests; nil means always.
	Ready func() bool

	// Title names the server on the status page, as the app's name; ""
	// means "gowsgi".
	Title string

	// Interval is how often Run samples the server for the status page's
	// charts; 0 means every second.
	Interval time.Duration

	// Window is how far back the charts go: Run keeps Window/Interval
	// samples. 0 means 5 minutes.
	Window time.Duration
}

// Handler serves the admin endpoints.
type Handler struct {
	cfg     Config
	mux     *http.ServeMux
	start   time.Time
	history *history
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Stats == nil {
		cfg.Stats = func() wsgi.Stats { return wsgi.Stats{} }
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	if cfg.Title == "" {
		cfg.Title = "gowsgi"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = 5 * time.Minute
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), start: time.Now(),
		history: newHistory(int(cfg.Window / cfg.Interval))}
	h.mux.HandleFunc("GET /metrics", h.metrics)
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok\n")
	})
	h.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Ready() {
			plain(w, http.StatusOK, "ready\n")
			return
		}
		plain(w, http.StatusServiceUnavailable, "not ready\n")
	})
	h.mux.HandleFunc("GET /{$}", h.status)
	h.mux.HandleFunc("GET /status.json", h.statusJSON)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	io.WriteString(w, body)
}
