package admin

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// statusPage is the page at /: plain HTML that refreshes itself every 5
// seconds, with no script.
var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"age": age,
	"mib": func(n int64) string {
		if n <= 0 {
			return "?"
		}
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>{{.Title}} status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ready{color:#070}.notready{color:#a00}
</style></head>
<body>
<h1>{{.Title}}</h1>
<p>{{if .Ready}}<span class="ready">Ready</span>{{else}}<span class="notready">Not ready</span>{{end}}:
up {{age .Up}}, {{len .Stats.Workers}} workers, {{.Busy}} busy and {{.Idle}} idle threads,
{{.Stats.Waiting}} requests waiting for a worker. As of {{.Now.Format "2006-01-02 15:04:05 MST"}}.</p>

<h2>Workers</h2>
<table>
<tr><th>Worker</th><th>PID</th><th>State</th><th>Threads</th><th>Busy</th><th>Served</th><th>Memory</th><th>Up</th></tr>
{{range .Stats.Workers}}<tr><td class="n">{{.ID}}</td><td class="n">{{.PID}}</td><td>{{.State}}</td><td class="n">{{.Threads}}</td>
<td class="n">{{len .Requests}}</td><td class="n">{{.Served}}</td><td class="n">{{mib .RSS}}</td><td class="n">{{age .Uptime}}</td></tr>
{{else}}<tr><td colspan="8">No workers.</td></tr>
{{end}}</table>

<h2>Requests in flight</h2>
<table>
<tr><th>Worker</th><th>Thread</th><th>Request</th><th>Age</th></tr>
{{range .InFlight}}<tr><td class="n">{{.Worker}}</td><td class="n">{{.Thread}}</td><td>{{.What}}</td><td class="n">{{age .Age}}</td></tr>
{{else}}<tr><td colspan="4">None.</td></tr>
{{end}}</table>

<h2>Restarts</h2>
<table>
<tr><th>Reason</th><th>Workers replaced</th></tr>
{{range .Restarts}}<tr><td>{{.Reason}}</td><td class="n">{{.Count}}</td></tr>
{{else}}<tr><td colspan="2">None since the server started.</td></tr>
{{end}}</table>
{{with .Stats.Recent}}
<h3>Recent</h3>
<table>
<tr><th>When</th><th>Worker</th><th>PID</th><th>Reason</th><th>Exit</th></tr>
{{range .}}<tr><td>{{.At.Format "15:04:05"}}</td><td class="n">{{.Worker}}</td><td class="n">{{.PID}}</td><td>{{.Reason}}</td><td>{{.Exit}}</td></tr>
{{end}}</table>
{{end}}
<p><a href="metrics">/metrics</a> · <a href="healthz">/healthz</a> · <a href="readyz">/readyz</a></p>
</body></html>
`))

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
