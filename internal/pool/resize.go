package pool

import (
	"context"
	"fmt"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// A seat is one worker id: the worker in it and its supervisor. Resize
// cancels its context to remove it.
type seat struct {
	id      int
	proc    *worker.Process // guarded by Pool.mu; nil while it is replaced
	backoff time.Duration   // guarded by Pool.mu: the delay before proc (supervise.go)
	handed  int64           // guarded by Pool.mu: requests handed to proc
	overdue bool            // guarded by Pool.mu: proc's replacement failed; it serves past its cap (overdue.go)
	parked  []*worker.Conn  // guarded by Pool.mu: proc's channels dropped while it was out of service at its cap
	recycle chan struct{}   // its worker has been handed its share
	swap    chan swap       // a reload's replacement
	ctx     context.Context // done when the pool stops or the seat is removed
	cancel  context.CancelFunc
	done    chan struct{} // closed when the supervisor has returned
}

func newSeat(parent context.Context, id int) *seat {
	ctx, cancel := context.WithCancel(parent)
	return &seat{id: id, recycle: make(chan struct{}, 1), swap: make(chan swap),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// end runs as the seat's supervisor returns. Unless the pool is stopping
// (Stop and Close then deal with its workers), the seat was removed by
// Resize: its worker takes no more requests and leaves once it has
// finished those it has.
func (s *seat) end(p *Pool) {
	defer close(s.done)
	p.mu.Lock()
	proc := s.proc
	if p.stopped || p.ctx.Err() != nil || proc == nil {
		p.mu.Unlock()
		return
	}
	s.proc = nil
	p.mu.Unlock()
	p.retire(s.id, proc, "worker removed")
}

// retire takes old out of service: it takes no more requests, finishes
// those it has and leaves, which is logged with what.
func (p *Pool) retire(id int, old *worker.Process, what string) {
	old.Retire()
	p.mu.Lock()
	p.retiring[old] = struct{}{}
	p.wg.Add(1) // under mu: Stop, which waits, sets stopped under it first
	p.mu.Unlock()
	old.Stop()
	go func() {
		defer p.wg.Done()
		<-old.Done()
		p.mu.Lock()
		delete(p.retiring, old)
		p.mu.Unlock()
		p.log.Info(what, "worker", id, "pid", old.PID(), "exit", old.Exit(), "served", old.Served.Load())
	}()
}

// Resize changes the number of workers to n, at least 1. New workers (the
// next ids) start, and take requests once ready; removed workers (the
// highest ids) take no more and leave once they have finished those they
// have. Resize returns when the new workers are ready and the removed ones
// take no more requests; if a new worker fails to start, its error is
// returned and the workers started before it stay. Resize waits for a
// Reload in progress, and Reload for it.
func (p *Pool) Resize(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("pool: cannot resize to %d workers: want 1 or more", n)
	}
	p.reload.Lock()
	defer p.reload.Unlock()
	p.mu.Lock()
	cur, stopped := len(p.seats), p.stopped
	p.mu.Unlock()
	if stopped {
		return ErrStopped
	}
	if n > cur {
		return p.grow(ctx, cur, n)
	}
	for id := cur - 1; id >= n; id-- {
		p.shrink(id)
	}
	return nil
}

// grow starts workers from..to-1, the next ones, and supervises them. If
// one fails, those before it stay and the others are killed.
func (p *Pool) grow(ctx context.Context, from, to int) error {
	procs, err := p.spawnSet(ctx, from, to)
	for i, proc := range procs {
		if proc == nil {
			killAll(procs[i:])
			return err
		}
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			killAll(procs[i:])
			return ErrStopped
		}
		s := newSeat(p.ctx, from+i)
		p.seats = append(p.seats, s)
		p.wg.Add(1) // before Stop, which waits: it sets stopped first
		p.mu.Unlock()
		p.add(proc)
		go p.supervise(s, proc)
		p.log.Info("worker added", "worker", s.id, "pid", proc.PID())
	}
	return err
}

// shrink removes worker id, the last one: its supervisor retires it and
// returns, then its seat goes.
func (p *Pool) shrink(id int) {
	p.mu.Lock()
	s := p.seats[id]
	p.mu.Unlock()
	s.cancel()
	<-s.done
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seats = p.seats[:id]
}

// Size returns the number of workers the pool keeps running.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seats)
}
