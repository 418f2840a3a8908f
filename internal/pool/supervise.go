package pool

import (
	"context"
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
		p.log.Warn("worker exited", "worker", s.id, "pid", proc.PID(), "exit", proc.Exit(),
			"uptime", proc.Uptime().Round(time.Millisecond), "served", proc.Served.Load())
		p.mu.Lock()
		s.proc = nil
		p.mu.Unlock()
		p.countRestart(s.id, proc, ReasonDied)
		if proc.Served.Load() == 0 && proc.Uptime() < infant {
			backoff = grow(backoff)
		} else {
			backoff = 0
		}
		var ok bool
		if proc, ok = p.respawn(ctx, s.id, &backoff); !ok {
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
	next, ok := p.respawn(ctx, s.id, &backoff)
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

// respawn starts worker id again, retrying with growing backoff; it fails
// only when ctx is done: the pool stops, or the worker is removed.
func (p *Pool) respawn(ctx context.Context, id int, backoff *time.Duration) (*worker.Process, bool) {
	for {
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
	}
}

func grow(d time.Duration) time.Duration {
	return min(max(2*d, minBackoff), maxBackoff)
}
