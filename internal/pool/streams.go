package pool

import (
	"context"
	"errors"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// DefaultMaxStreams is the streams an ASGI worker takes at once when
// Config.MaxStreams is 0: enough that its event loop, not the limit, is
// what bounds it, and few enough that a leak of hung streams is noticed.
const DefaultMaxStreams = 1000

// streamWaiter is a stream waiting for room on a worker; a closed wake
// means the pool stopped.
type streamWaiter struct{ wake chan bool }

// OpenStream opens an ASGI stream on the ready worker with the fewest open
// streams, below Config.MaxStreams; if every worker is full it waits, in
// arrival order, as Acquire does (Config.MaxWaiting, Config.MaxWait).
// scope is as Mux.Open takes it. first, if not nil, is the app's first
// received message, sent with the
// Open frame. A worker that refuses (it is stopping, or died before the
// stream reached it) is passed over: nothing reached the app.
func (p *Pool) OpenStream(ctx context.Context, scope any, first worker.Message, what string) (*worker.Stream, error) {
	var expired <-chan time.Time
	for {
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return nil, ErrStopped
		}
		if proc := p.pickStream(); proc != nil {
			p.pending[proc]++
			p.handProc(proc)
			p.mu.Unlock()
			s, err := proc.Mux.Open(scope, first, what)
			p.mu.Lock()
			p.pending[proc]--
			if p.pending[proc] == 0 {
				delete(p.pending, proc)
			}
			p.mu.Unlock()
			if errors.Is(err, worker.ErrStreamRefused) {
				continue
			}
			return s, err
		}
		if p.cfg.MaxWaiting > 0 && len(p.swaiters) >= p.cfg.MaxWaiting {
			p.mu.Unlock()
			return nil, ErrQueueFull
		}
		w := &streamWaiter{wake: make(chan bool, 1)}
		p.swaiters = append(p.swaiters, w)
		p.mu.Unlock()
		if expired == nil && p.cfg.MaxWait > 0 {
			t := time.NewTimer(p.cfg.MaxWait)
			defer t.Stop()
			expired = t.C
		}
		var err error
		select {
		case ok := <-w.wake:
			if !ok {
				return nil, ErrStopped
			}
			continue
		case <-ctx.Done():
			err = ctx.Err()
		case <-expired:
			err = ErrWaitedTooLong
		}
		p.mu.Lock()
		p.dropWaiter(w)
		p.mu.Unlock()
		return nil, err
	}
}

// pickStream returns the ready worker with the fewest streams (open or
// being opened) below the limit, or nil; p.mu is held.
func (p *Pool) pickStream() *worker.Process {
	limit := p.cfg.MaxStreams
	if limit <= 0 {
		limit = DefaultMaxStreams
	}
	var best *worker.Process
	bestN := limit
	for _, s := range p.seats {
		proc := s.proc
		if proc == nil || proc.Mux == nil || proc.State() != worker.Ready {
			continue
		}
		if n := proc.Mux.Len() + p.pending[proc]; n < bestN {
			best, bestN = proc, n
		}
	}
	return best
}

// dropWaiter removes w, which gave up; if it had been woken meanwhile, the
// wake-up passes to the next. p.mu is held.
func (p *Pool) dropWaiter(w *streamWaiter) {
	for i, x := range p.swaiters {
		if x == w {
			p.swaiters = append(p.swaiters[:i], p.swaiters[i+1:]...)
			return
		}
	}
	select {
	case <-w.wake:
		p.wakeStream()
	default:
	}
}

// wakeStream wakes the first stream waiting for room; p.mu is held.
func (p *Pool) wakeStream() {
	if len(p.swaiters) == 0 {
		return
	}
	w := p.swaiters[0]
	p.swaiters = p.swaiters[1:]
	w.wake <- true
}

// streamFreed is called by a worker's Mux when a stream ends.
func (p *Pool) streamFreed() {
	p.mu.Lock()
	p.wakeStream()
	p.mu.Unlock()
}
