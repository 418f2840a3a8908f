package asgi

import (
	"sort"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// Stats returns a snapshot of c's workers and queue, in package wsgi's
// form, so that admin and metrics take either container: a worker's
// Threads is 1 (its event loop), its Requests are its open streams, each
// numbered by its stream id in Thread.
func (c *Container) Stats() wsgi.Stats {
	st := wsgi.Stats{Waiting: c.pool.Waiting(), Backoff: c.pool.Backoff(), Restarts: map[string]int64{}}
	for reason, n := range c.pool.Restarts() {
		st.Restarts[reason.String()] = n
	}
	for _, r := range c.pool.RecentRestarts() {
		st.Recent = append(st.Recent, wsgi.RestartStats{Worker: r.Worker, PID: r.PID, Reason: r.Reason.String(),
			Exit: r.Exit, At: r.At})
	}
	now := time.Now()
	for _, p := range c.pool.Workers() {
		ws := wsgi.WorkerStats{ID: p.ID, PID: p.PID(), State: p.State().String(), Threads: 1,
			Served: p.Served.Load(), Uptime: p.Uptime()}
		ws.RSS, _ = p.RSS()
		if p.Mux != nil {
			for _, s := range p.Mux.Streams() {
				ws.Requests = append(ws.Requests, wsgi.RequestStats{Thread: int(s.ID), What: s.What, Age: now.Sub(s.Since)})
			}
			sort.Slice(ws.Requests, func(i, j int) bool { return ws.Requests[i].Thread < ws.Requests[j].Thread })
		}
		st.Workers = append(st.Workers, ws)
	}
	sort.Slice(st.Workers, func(i, j int) bool { return st.Workers[i].ID < st.Workers[j].ID })
	return st
}
