package admin

import (
	"bufio"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// metrics writes the Prometheus text exposition format.
func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	e := expo{w: bw}

	if m := h.cfg.Metrics; m != nil {
		e.family("gowsgi_http_requests_total", "counter", "HTTP requests served, by method and status class.")
		for i := range m.requests {
			for j := range m.requests[i] {
				if n := m.requests[i][j].Load(); n > 0 {
					e.sample("gowsgi_http_requests_total", labels{"method", label(methods[:], i), "code", label(classes[:], j)}, float64(n))
				}
			}
		}
		e.family("gowsgi_http_request_duration_seconds", "histogram", "Time from a request's arrival to the end of its response.")
		hist := m.histogram()
		var cum uint64
		fine := 0
		for _, bound := range latencyBounds {
			for fine < len(fineBounds) && fineBounds[fine] <= bound {
				cum += hist[fine]
				fine++
			}
			e.sample("gowsgi_http_request_duration_seconds_bucket", labels{"le", formatFloat(bound)}, float64(cum))
		}
		e.sample("gowsgi_http_request_duration_seconds_bucket", labels{"le", "+Inf"}, float64(hist.count()))
		e.sample("gowsgi_http_request_duration_seconds_sum", nil, time.Duration(m.nanos.Load()).Seconds())
		e.sample("gowsgi_http_request_duration_seconds_count", nil, float64(hist.count()))
	}

	st := h.cfg.Stats()
	e.family("gowsgi_queue_depth", "gauge", "Requests waiting for a free worker thread.")
	e.sample("gowsgi_queue_depth", nil, float64(st.Waiting))

	busy, idle := threads(st)
	e.family("gowsgi_worker_threads", "gauge", "Worker threads, busy with a request or idle (of ready workers).")
	e.sample("gowsgi_worker_threads", labels{"state", "busy"}, float64(busy))
	e.sample("gowsgi_worker_threads", labels{"state", "idle"}, float64(idle))

	e.family("gowsgi_workers", "gauge", "Worker processes, by state.")
	byState := map[string]int{"starting": 0, "ready": 0, "stopping": 0, "exited": 0}
	for _, ws := range st.Workers {
		byState[ws.State]++
	}
	for _, s := range sortedKeys(byState) {
		e.sample("gowsgi_workers", labels{"state", s}, float64(byState[s]))
	}

	e.family("gowsgi_worker_restarts_total", "counter", "Workers replaced, by reason.")
	restarts := map[string]int64{"died": 0, "max-requests": 0, "memory": 0, "reload": 0}
	for k, v := range st.Restarts {
		restarts[k] = v
	}
	for _, reason := range sortedKeys(restarts) {
		e.sample("gowsgi_worker_restarts_total", labels{"reason", reason}, float64(restarts[reason]))
	}

	e.family("gowsgi_worker_backoff_seconds", "gauge", "Longest delay before a worker's restart while it dies soon after each start; 0 if none does.")
	e.sample("gowsgi_worker_backoff_seconds", nil, st.Backoff.Seconds())

	e.family("gowsgi_worker_resident_memory_bytes", "gauge", "Resident memory of each worker process.")
	for _, ws := range st.Workers {
		if ws.RSS > 0 {
			e.sample("gowsgi_worker_resident_memory_bytes", labels{"worker", strconv.Itoa(ws.ID)}, float64(ws.RSS))
		}
	}

	e.bodyMetrics(st.Bodies)

	e.family("gowsgi_ready", "gauge", "1 while the server takes requests (as /readyz), else 0.")
	ready := 0.0
	if h.cfg.Ready() {
		ready = 1
	}
	e.sample("gowsgi_ready", nil, ready)
}

// threads counts the busy threads of all workers and the idle threads of
// the ready ones.
func threads(st wsgi.Stats) (busy, idle int) {
	for _, ws := range st.Workers {
		busy += len(ws.Requests)
		if ws.State == "ready" {
			idle += max(ws.Threads-len(ws.Requests), 0)
		}
	}
	return busy, idle
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// labels are name, value pairs.
type labels []string

// expo writes the exposition format.
type expo struct{ w *bufio.Writer }

func (e expo) family(name, typ, help string) {
	e.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

func (e expo) sample(name string, l labels, v float64) {
	e.w.WriteString(name)
	if len(l) > 0 {
		e.w.WriteByte('{')
		for i := 0; i < len(l); i += 2 {
			if i > 0 {
				e.w.WriteByte(',')
			}
			e.w.WriteString(l[i] + `="` + escapeLabel(l[i+1]) + `"`)
		}
		e.w.WriteByte('}')
	}
	e.w.WriteString(" " + formatFloat(v) + "\n")
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
