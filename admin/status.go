package admin

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// statusPage is the page at /: the tables in plain HTML, and a script
// that draws the charts from /status.json and keeps the tables current.
// Without the script, the page reloads itself every 5 seconds.
//
//go:embed status.html
var statusHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"age": age,
	"mib": func(n int64) string {
		if n <= 0 {
			return "?"
		}
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	},
}).Parse(statusHTML))

// inFlight is a request in flight on the status page.
type inFlight struct {
	Worker int
	wsgi.RequestStats
}

type restart struct {
	Reason string
	Count  int64
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	st := h.cfg.Stats()
	data := struct {
		Title      string
		Ready      bool
		Now        time.Time
		Up         time.Duration
		Stats      wsgi.Stats
		Busy, Idle int
		InFlight   []inFlight
		Restarts   []restart
	}{Title: h.cfg.Title, Ready: h.cfg.Ready(), Now: time.Now(), Up: time.Since(h.start), Stats: st}
	data.Busy, data.Idle = threads(st)
	for _, ws := range st.Workers {
		for _, rs := range ws.Requests {
			data.InFlight = append(data.InFlight, inFlight{ws.ID, rs})
		}
	}
	for _, reason := range sortedKeys(st.Restarts) {
		if n := st.Restarts[reason]; n > 0 {
			data.Restarts = append(data.Restarts, restart{reason, n})
		}
	}
	var buf bytes.Buffer
	if err := statusPage.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	buf.WriteTo(w)
}

// age writes d for a person: 850ms, 12.3s, 4m05s, 3h12m, 2d4h.
func age(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
