package wsgi

import (
	"sort"
	"time"
)

// Stats is a snapshot of a Container's workers and queue, for metrics and
// status pages.
type Stats struct {
	Workers  []WorkerStats
	Waiting  int              // requests waiting for a free worker thread
	Restarts map[string]int64 // workers replaced, by reason: "died", "max-requests", "memory", "reload"
	Recent   []RestartStats   // the last few replacements, oldest first

	// Backoff is the longest delay a worker is restarted after, while it
	// dies soon after each start (a crash loop); 0 if none is.
	Backoff time.Duration

	Bodies BodyStats // the request bodies' budgets (bodystats.go)
}

// RestartStats describes one worker replaced.
type RestartStats struct {
	Worker int
	PID    int    // of the process replaced
	Reason string // "died", "max-requests", "memory" or "reload"
	Exit   string // how it ended, if it died: "signal: killed"
	At     time.Time
}

// WorkerStats describes one worker process.
type WorkerStats struct {
	ID       int
	PID      int
	State    string // "starting", "ready", "stopping" or "exited"
	Threads  int
	Served   int64 // requests served
	RSS      int64 // resident memory in bytes; 0 if unknown
	Uptime   time.Duration
	Requests []RequestStats // in flight
}

// RequestStats describes a request in flight on a worker thread.
type RequestStats struct {
	Thread int
	What   string // "GET /path"
	Age    time.Duration
}

// Info describes the interpreter and the application of a started
// Container, as its workers report them.
type Info struct {
	Python         string // the interpreter's path (sys.executable)
	Version        string // "3.11.2"
	Implementation string // "CPython" or "PyPy"
	App            string // what the app spec names, as "flask.app.Flask"
}

// Info returns what the workers of c report; it is empty until Start has
// succeeded.
func (c *Container) Info() Info {
	if c.pool == nil {
		return Info{}
	}
	for _, p := range c.pool.Workers() {
		i := p.Info
		return Info{Python: i.Executable, Version: i.Version, Implementation: i.Implementation, App: i.App}
	}
	return Info{}
}

// Stats returns a snapshot of c's workers and queue.
func (c *Container) Stats() Stats {
	st := Stats{Bodies: c.bodyStats()}
	if c.pool == nil {
		return st
	}
	st.Waiting = c.pool.Waiting()
	st.Backoff = c.pool.Backoff()
	st.Restarts = map[string]int64{}
	for reason, n := range c.pool.Restarts() {
		st.Restarts[reason.String()] = n
	}
	for _, r := range c.pool.RecentRestarts() {
		st.Recent = append(st.Recent, RestartStats{Worker: r.Worker, PID: r.PID, Reason: r.Reason.String(),
			Exit: r.Exit, At: r.At})
	}
	now := time.Now()
	for _, p := range c.pool.Workers() {
		ws := WorkerStats{ID: p.ID, PID: p.PID(), State: p.State().String(), Threads: len(p.Conns),
			Served: p.Served.Load(), Uptime: p.Uptime()}
		ws.RSS, _ = p.RSS()
		for _, conn := range p.Conns {
			if what, since, ok := conn.Current(); ok {
				ws.Requests = append(ws.Requests, RequestStats{Thread: conn.Thread, What: what, Age: now.Sub(since)})
			}
		}
		st.Workers = append(st.Workers, ws)
	}
	sort.Slice(st.Workers, func(i, j int) bool { return st.Workers[i].ID < st.Workers[j].ID })
	return st
}
