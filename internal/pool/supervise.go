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

// supervise watches worker id: it replaces the worker when it exits, and
// recycles it when it has served its share of requests or grown too big.
func (p *Pool) supervise(id int, proc *worker.Process) {
	defer p.wg.Done()
	p.mu.Lock()
	swaps, recycle, s := p.swap[id], p.recycle[id], p.slots[id]
	p.mu.Unlock()
	ctx := s.ctx // done when the pool stops or Resize removes worker id
	defer s.end(p, id)
	var backoff time.Duration
	var memTick <-chan time.Time
	if p.cfg.MaxMemory > 0 {
		t := time.NewTicker(memoryCheck)
		defer t.Stop()
		memTick = t.C
	}
	for {
		var reason string
		select {
		case <-proc.Done():
		case <-ctx.Done():
			return
		case sw := <-swaps:
			p.countRestart(id, proc, "reload")
			p.takeOver(id, proc, sw.next)
			close(sw.done)
			proc = sw.next
			continue
		case <-recycle:
			reason = "max-requests"
		case <-memTick:
			rss, err := proc.RSS()
			if err != nil || rss <= p.cfg.MaxMemory {
				continue
			}
			reason = "memory"
		}
		if ctx.Err() != nil {
			return
		}
		if reason != "" {
			p.countRestart(id, proc, reason)
			if next, ok := p.replace(ctx, id, proc, reason); ok {
				proc = next
				continue
			}
			return
		}
		p.log.Warn("worker exited", "worker", id, "pid", proc.PID(), "exit", proc.Exit(),
			"uptime", proc.Uptime().Round(time.Millisecond), "served", proc.Served.Load())
		p.mu.Lock()
		p.procs[id] = nil
		p.mu.Unlock()
		p.countRestart(id, proc, "died")
		if proc.Served.Load() == 0 && proc.Uptime() < infant {
			backoff = grow(backoff)
		} else {
			backoff = 0
		}
		var ok bool
		if proc, ok = p.respawn(ctx, id, &backoff); !ok {
			return
		}
		p.add(proc)
		p.log.Info("worker started", "worker", id, "pid", proc.PID())
	}
}

// replace recycles old: a new worker is started while old goes on serving,
// and only once the new one is ready does old stop taking requests and
// leave, after finishing those it has.
func (p *Pool) replace(ctx context.Context, id int, old *worker.Process, reason string) (*worker.Process, bool) {
	why := map[string]string{"max-requests": "it served its max requests",
		"memory": "its memory exceeds the limit"}[reason]
	p.log.Info("recycling worker", "worker", id, "pid", old.PID(), "reason", why,
		"served", old.Served.Load())
	var backoff time.Duration
	next, ok := p.respawn(ctx, id, &backoff)
	if !ok {
		return nil, false
	}
	p.takeOver(id, old, next)
	return next, true
}

// takeOver puts next, which is ready, in old's place: old takes no more
// requests and leaves once it has finished those it has.
func (p *Pool) takeOver(id int, old, next *worker.Process) {
	old.Retire()
	p.mu.Lock()
	p.retiring[old] = struct{}{}
	p.mu.Unlock()
	p.add(next)
	old.Stop()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		<-old.Done()
		p.mu.Lock()
		delete(p.retiring, old)
		p.mu.Unlock()
		p.log.Info("worker retired", "worker", id, "pid", old.PID(), "exit", old.Exit())
	}()
	p.log.Info("worker started", "worker", id, "pid", next.PID())
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
