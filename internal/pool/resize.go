package pool

import (
	"context"
	"fmt"
)

// A slot is the supervisor of one worker id. Resize cancels its context to
// remove that worker.
type slot struct {
	ctx    context.Context // done when the pool stops or the worker is removed
	cancel context.CancelFunc
	done   chan struct{} // closed when the supervisor has returned
}

func newSlot(parent context.Context) slot {
	ctx, cancel := context.WithCancel(parent)
	return slot{ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// end runs as worker id's supervisor returns. Unless the pool is stopping
// (Stop and Close then deal with its workers), the worker was removed by
// Resize: it takes no more requests and leaves once it has finished those
// it has.
func (s slot) end(p *Pool, id int) {
	defer close(s.done)
	p.mu.Lock()
	if p.stopped || p.ctx.Err() != nil || p.procs[id] == nil {
		p.mu.Unlock()
		return
	}
	proc := p.procs[id]
	p.procs[id] = nil
	p.retiring[proc] = struct{}{}
	p.mu.Unlock()
	proc.Retire()
	proc.Stop()
	p.wg.Add(1) // the supervisor's own count keeps wg above 0 meanwhile
	go func() {
		defer p.wg.Done()
		<-proc.Done()
		p.mu.Lock()
		delete(p.retiring, proc)
		p.mu.Unlock()
		p.log.Info("worker removed", "worker", id, "pid", proc.PID(), "exit", proc.Exit(),
			"served", proc.Served.Load())
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
	cur, stopped := len(p.procs), p.stopped
	p.mu.Unlock()
	if stopped {
		return ErrStopped
	}
	for id := cur; id < n; id++ {
		if err := p.grow(ctx, id); err != nil {
			return err
		}
	}
	for id := cur - 1; id >= n; id-- {
		p.shrink(id)
	}
	return nil
}

// grow starts worker id, the next one, and supervises it.
func (p *Pool) grow(ctx context.Context, id int) error {
	proc, err := p.spawn(ctx, id)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		proc.Kill()
		return ErrStopped
	}
	p.procs = append(p.procs, nil)
	p.recycle = append(p.recycle, make(chan struct{}, 1))
	p.swap = append(p.swap, make(chan swap))
	p.slots = append(p.slots, newSlot(p.ctx))
	p.wg.Add(1) // before Stop, which waits: it sets stopped first
	p.mu.Unlock()
	p.add(proc)
	go p.supervise(id, proc)
	p.log.Info("worker added", "worker", id, "pid", proc.PID())
	return nil
}

// shrink removes worker id, the last one: its supervisor retires it and
// returns, then its slot goes.
func (p *Pool) shrink(id int) {
	p.mu.Lock()
	s := p.slots[id]
	p.mu.Unlock()
	s.cancel()
	<-s.done
	p.mu.Lock()
	defer p.mu.Unlock()
	p.procs = p.procs[:id]
	p.recycle = p.recycle[:id]
	p.swap = p.swap[:id]
	p.slots = p.slots[:id]
}

// Size returns the number of workers the pool keeps running.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.procs)
}
