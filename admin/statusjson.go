package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// statusDoc is /status.json: the status page's tables and the charts'
// samples. Durations are in seconds, memory in bytes.
type statusDoc struct {
	Title    string           `json:"title"`
	Ready    bool             `json:"ready"`
	Now      time.Time        `json:"now"`
	Up       float64          `json:"up"`
	Interval float64          `json:"interval"` // between samples
	Window   float64          `json:"window"`   // that the samples kept span, at most
	Waiting  int              `json:"waiting"`
	Busy     int              `json:"busy"`
	Idle     int              `json:"idle"`
	Workers  []workerDoc      `json:"workers"`
	InFlight []inFlightDoc    `json:"inFlight"`
	Restarts map[string]int64 `json:"restarts"`

	// Requests counts the requests completed over the samples kept, and
	// P50 and P99 are their latencies' quantiles.
	Requests uint64   `json:"requests"`
	P50      *float64 `json:"p50,omitempty"`
	P99      *float64 `json:"p99,omitempty"`

	// Seq is the newest sample's Seq: a client that has it is up to
	// date, and one that has a larger one talks to a new server.
	Seq uint64 `json:"seq"`

	// Samples are those newer than ?after=SEQ (all without it), oldest
	// first.
	Samples []sample `json:"samples"`
}

type workerDoc struct {
	ID      int     `json:"id"`
	PID     int     `json:"pid"`
	State   string  `json:"state"`
	Threads int     `json:"threads"`
	Busy    int     `json:"busy"`
	Served  int64   `json:"served"`
	RSS     int64   `json:"rss"` // 0 if unknown
	Uptime  float64 `json:"uptime"`
}

type inFlightDoc struct {
	Worker int     `json:"worker"`
	Thread int     `json:"thread"`
	What   string  `json:"what"`
	Age    float64 `json:"age"`
}

func (h *Handler) statusJSON(w http.ResponseWriter, r *http.Request) {
	var after uint64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			plain(w, http.StatusBadRequest, fmt.Sprintf("after=%q is not a sample number\n", v))
			return
		}
		after = n
	}
	st := h.cfg.Stats()
	doc := statusDoc{Title: h.cfg.Title, Ready: h.cfg.Ready(), Now: time.Now(), Up: time.Since(h.start).Seconds(),
		Interval: h.cfg.Interval.Seconds(), Window: h.cfg.Window.Seconds(), Waiting: st.Waiting,
		Workers: []workerDoc{}, InFlight: []inFlightDoc{}, Restarts: st.Restarts}
	if doc.Restarts == nil {
		doc.Restarts = map[string]int64{}
	}
	doc.Busy, doc.Idle = threads(st)
	for _, ws := range st.Workers {
		doc.Workers = append(doc.Workers, workerDoc{ws.ID, ws.PID, ws.State, ws.Threads, len(ws.Requests), ws.Served,
			ws.RSS, ws.Uptime.Seconds()})
		for _, rs := range ws.Requests {
			doc.InFlight = append(doc.InFlight, inFlightDoc{ws.ID, rs.Thread, rs.What, rs.Age.Seconds()})
		}
	}
	var window histogram
	doc.Samples, window, doc.Seq = h.history.after(after)
	if doc.Samples == nil {
		doc.Samples = []sample{}
	}
	doc.Requests = window.count()
	doc.P50, doc.P99 = finite(window.quantile(0.5)), finite(window.quantile(0.99))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(doc)
}
