package pool

import (
	"errors"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// Restart backoff: a worker that fails to start, or dies before it served
// anything, waits before the next try, longer each time; a worker that
// served and then died is replaced at once.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// infant is how young a worker that never served must die to count as
	// failing to start.
	infant = time.Second
)

// supervise watches worker id and replaces it whenever it exits, until the
// pool stops.
func (p *Pool) supervise(id int, proc *worker.Process) {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		select {
		case <-proc.Done():
		case <-p.ctx.Done():
			return
		}
		if p.ctx.Err() != nil {
			return
		}
		p.log.Warn("worker exited", "worker", id, "pid", proc.PID(), "exit", proc.Exit(),
			"uptime", proc.Uptime().Round(time.Millisecond), "served", proc.Served.Load())
		p.mu.Lock()
		p.procs[id] = nil
		p.mu.Unlock()
		if proc.Served.Load() == 0 && proc.Uptime() < infant {
			backoff = grow(backoff)
		} else {
			backoff = 0
		}
		var ok bool
		if proc, ok = p.respawn(id, &backoff); !ok {
			return
		}
		p.add(proc)
		p.log.Info("worker started", "worker", id, "pid", proc.PID())
	}
}

// respawn starts worker id again, retrying with growing backoff; it fails
// only when the pool stops.
func (p *Pool) respawn(id int, backoff *time.Duration) (*worker.Process, bool) {
	for {
		if *backoff > 0 {
			t := time.NewTimer(*backoff)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return nil, false
			}
		}
		proc, err := p.cfg.Spawn(p.ctx, id)
		if err == nil {
			return proc, true
		}
		if p.ctx.Err() != nil {
			return nil, false
		}
		*backoff = grow(*backoff)
		var le *worker.LoadError
		if errors.As(err, &le) {
			p.log.Error("replacement worker cannot load the app", "worker", id,
				"retry_in", *backoff, "traceback", le.Traceback)
		} else {
			p.log.Error("replacement worker failed to start", "worker", id,
				"retry_in", *backoff, "err", err)
		}
	}
}

func grow(d time.Duration) time.Duration {
	return min(max(2*d, minBackoff), maxBackoff)
}
