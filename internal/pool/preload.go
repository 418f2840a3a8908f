package pool

import (
	"context"
	"errors"
	"sync"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// zygotes are the template processes of Config.Preload: the current one,
// which forks new workers, and those a Reload retired, which leave once
// the workers forked from them have.
type zygotes struct {
	start   sync.Mutex // held while the current zygote is replaced
	mu      sync.Mutex
	cur     *worker.Zygote
	retired []*worker.Zygote
	gen     int  // zygotes started, to number them in logs
	closed  bool // the pool stops: start no more
}

// errClosed is the error of a fork asked for as the pool stops.
var errClosed = errors.New("pool: stopping: no zygote is started")

// startZygote starts a zygote, which imports the app.
func (p *Pool) startZygote(ctx context.Context) (*worker.Zygote, error) {
	p.zyg.mu.Lock()
	p.zyg.gen++
	gen := p.zyg.gen
	p.zyg.mu.Unlock()
	cfg := p.workerConfig(gen)
	z, err := worker.StartZygote(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p.log.Info("zygote started: the app is imported once, workers are forked from it",
		"zygote", gen, "pid", z.PID())
	go p.watchZygote(z)
	return z, nil
}

// watchZygote logs the death of a zygote that should still be there; the
// next worker to start starts another (fork).
func (p *Pool) watchZygote(z *worker.Zygote) {
	<-z.Done()
	p.zyg.mu.Lock()
	current := p.zyg.cur == z && !p.zyg.closed
	p.zyg.mu.Unlock()
	if current {
		p.log.Warn("zygote exited: the workers serve on, and the next one started imports the app again",
			"pid", z.PID(), "exit", z.Exit())
	}
}

// fork starts worker cfg.ID from the current zygote, first starting a new
// zygote if that one has died.
func (p *Pool) fork(ctx context.Context, cfg worker.Config) (*worker.Process, error) {
	for {
		z, err := p.zygote(ctx)
		if err != nil {
			return nil, err
		}
		proc, err := z.Fork(ctx, cfg)
		if errors.Is(err, worker.ErrZygoteGone) && ctx.Err() == nil {
			continue // it died or was retired meanwhile: the next is asked
		}
		return proc, err
	}
}

// zygote returns the current zygote, started anew if it has exited.
func (p *Pool) zygote(ctx context.Context) (*worker.Zygote, error) {
	// Workers that die together wait for one new zygote.
	p.zyg.start.Lock()
	defer p.zyg.start.Unlock()
	p.zyg.mu.Lock()
	z, closed := p.zyg.cur, p.zyg.closed
	p.zyg.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if z != nil {
		select {
		case <-z.Done():
			p.log.Info("starting a new zygote", "old_pid", z.PID(), "old_exit", z.Exit())
		default:
			return z, nil
		}
	}
	z, err := p.startZygote(ctx)
	if err != nil {
		return nil, err
	}
	return z, p.setZygote(z)
}

// setZygote makes z the current zygote, unless the pool stops.
func (p *Pool) setZygote(z *worker.Zygote) error {
	p.zyg.mu.Lock()
	defer p.zyg.mu.Unlock()
	if p.zyg.closed {
		z.Kill()
		return errClosed
	}
	p.zyg.cur = z
	return nil
}

// reloadZygote starts a zygote with the new code, from which the workers
// of a Reload are then forked. Its result is called with the outcome of
// the reload: the loser of old and new is retired, leaving once its
// workers have.
func (p *Pool) reloadZygote(ctx context.Context) (func(ok bool), error) {
	p.zyg.start.Lock()
	defer p.zyg.start.Unlock()
	next, err := p.startZygote(ctx)
	if err != nil {
		return nil, err
	}
	p.zyg.mu.Lock()
	old := p.zyg.cur
	p.zyg.mu.Unlock()
	if err := p.setZygote(next); err != nil {
		return nil, err
	}
	return func(ok bool) {
		loser := old
		p.zyg.mu.Lock()
		if !ok && p.zyg.cur == next {
			p.zyg.cur, loser = old, next
		}
		if loser != nil {
			p.zyg.retired = append(pruneDone(p.zyg.retired), loser)
		}
		p.zyg.mu.Unlock()
		if loser != nil {
			loser.Retire()
		}
	}, nil
}

// pruneDone drops the zygotes that have exited.
func pruneDone(zs []*worker.Zygote) []*worker.Zygote {
	out := zs[:0]
	for _, z := range zs {
		select {
		case <-z.Done():
		default:
			out = append(out, z)
		}
	}
	return out
}

// stopZygotes stops every zygote once the workers have stopped, killing
// those still there when ctx is done.
func (p *Pool) stopZygotes(ctx context.Context) {
	for _, z := range p.closeZygotes() {
		z.Stop()
		select {
		case <-z.Done():
		case <-ctx.Done():
			z.Kill()
			<-z.Done()
		}
	}
}

// killZygotes kills every zygote at once.
func (p *Pool) killZygotes() {
	for _, z := range p.closeZygotes() {
		z.Kill()
		<-z.Done()
	}
}

func (p *Pool) closeZygotes() []*worker.Zygote {
	p.zyg.mu.Lock()
	defer p.zyg.mu.Unlock()
	p.zyg.closed = true
	all := p.zyg.retired
	if p.zyg.cur != nil {
		all = append(all, p.zyg.cur)
	}
	p.zyg.cur, p.zyg.retired = nil, nil
	return all
}

// startPreload starts the first zygote, with Config.Preload.
func (p *Pool) startPreload(ctx context.Context) error {
	if !p.cfg.Preload {
		return nil
	}
	_, err := p.zygote(ctx)
	return err
}

// Zygote returns the current zygote of Config.Preload, or nil.
func (p *Pool) Zygote() *worker.Zygote {
	p.zyg.mu.Lock()
	defer p.zyg.mu.Unlock()
	return p.zyg.cur
}
