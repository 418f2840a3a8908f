package pool

import (
	"context"
	"errors"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// Restart backoff: a worker that fails to start, or dies within settle of
// its start (whether or not it served: an app that crashes a second in
// is in a loop too), waits before the next try, twice as long for each
// such death in a row, from minBackoff to maxBackoff. A worker that stays
// up settle ends the run: its death is replaced at once.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	settle     = 10 * time.Second
)

// memoryCheck is how often a worker's RSS is compared with Config.MaxMemory.
const memoryCheck = time.Second

// supervise watches the worker in seat s: it replaces the worker when it
// exits, and recycles it when it has been handed its share of requests or
// grown too big.
func (p *Pool) supervise(s *seat, proc *worker.Process) {
	defer p.wg.Done()
	defer s.end(p)
	ctx := s.ctx // done when the pool stops or Resize removes the seat
	var backoff time.Duration
	var memTick <-chan time.Time
	if p.cfg.MaxMemory > 0 {
		t := time.NewTicker(memoryCheck)
		defer t.Stop()
		memTick = t.C
	}
	for {
		var reason Reason
		select {
		case <-proc.Done():
		case <-ctx.Done():
			return
		case sw := <-s.swap:
			p.countRestart(s.id, proc, ReasonReload)
			p.takeOver(s, proc, sw.next)
			close(sw.done)
			proc = sw.next
			continue
		case <-s.recycle:
			reason = ReasonMaxRequests
		case <-memTick:
			rss, err := proc.RSS()
			if err != nil || rss <= p.cfg.MaxMemory {
				continue
			}
			reason = ReasonMemory
		}
		if ctx.Err() != nil {
			return
		}
		if reason != "" {
			p.countRestart(s.id, proc, reason)
			if next, ok := p.replace(ctx, s, proc, reason); ok {
				proc = next
				continue
			}
			return
		}
		uptime := proc.Uptime()
		p.log.Warn("worker exited", "worker", s.id, "pid", proc.PID(), "exit", proc.Exit(),
			"uptime", uptime.Round(time.Millisecond), "served", proc.Served.Load())
		p.mu.Lock()
		s.proc = nil
		p.mu.Unlock()
		select {
		case <-s.recycle: // the dead worker's: not its replacement's
		default:
		}
		p.countRestart(s.id, proc, ReasonDied)
		if uptime < settle {
			backoff = grow(backoff)
			p.log.Warn("worker died soon after it started: backing off before the restart",
				"worker", s.id, "uptime", uptime.Round(time.Millisecond), "settle", settle, "retry_in", backoff)
		} else {
			backoff = 0
		}
		var ok bool
		if proc, ok = p.respawn(ctx, s, &backoff, nil); !ok {
			return
		}
		p.add(proc)
		p.log.Info("worker started", "worker", s.id, "pid", proc.PID())
	}
}

// replace recycles old: a new worker is started while old goes on serving,
// and only once the new one is ready does old stop taking requests and
// leave, after finishing those it has.
func (p *Pool) replace(ctx context.Context, s *seat, old *worker.Process, reason Reason) (*worker.Process, bool) {
	p.log.Info("recycling worker", "worker", s.id, "pid", old.PID(), "reason", reason.explain(),
		"served", old.Served.Load())
	var backoff time.Duration
	next, ok := p.respawn(ctx, s, &backoff, func() { p.serveOverdue(s, old, reason) })
	if !ok {
		return nil, false
	}
	p.takeOver(s, old, next)
	return next, true
}

// takeOver puts next, which is ready, in old's place in seat s: old takes
// no more requests and leaves once it has finished those it has.
func (p *Pool) takeOver(s *seat, old, next *worker.Process) {
	p.add(next)
	p.retire(s.id, old, "worker retired")
	p.log.Info("worker started", "worker", s.id, "pid", next.PID())
}

// respawn starts the worker of seat s again, retrying with growing
// backoff, and calling failed (if not nil) after each failure; it fails
// only when ctx is done: the pool stops, or the seat is removed.
func (p *Pool) respawn(ctx context.Context, s *seat, backoff *time.Duration, failed func()) (*worker.Process, bool) {
	id := s.id
	for {
		p.mu.Lock()
		s.backoff = *backoff
		p.mu.Unlock()
		if *backoff > 0 {
			t := time.NewTimer(*backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, false
			}
		}
		proc, err := p.spawn(ctx, id)
		if err == nil {
			return proc, true
		}
		if ctx.Err() != nil {
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
		if failed != nil {
			failed()
		}
	}
}

func grow(d time.Duration) time.Duration {
	return min(max(2*d, minBackoff), maxBackoff)
}

// Backoff returns the longest restart backoff a worker seat is in: the
// delay before its current worker started, or before the next, while that
// worker has not stayed up the settle time. 0: no worker is in a restart
// loop.
func (p *Pool) Backoff() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d time.Duration
	for _, s := range p.seats {
		if s.proc == nil || s.proc.Uptime() < settle {
			d = max(d, s.backoff)
		}
	}
	return d
}
