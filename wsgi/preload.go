package wsgi

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
	closed  bool // the Container stops: start no more
}

// errClosed is the error of a fork asked for as the Container stops.
var errClosed = errors.New("wsgi: the Container is stopping")

// startZygote starts a zygote, which imports the app.
func (c *Container) startZygote(ctx context.Context) (*worker.Zygote, error) {
	c.zyg.mu.Lock()
	c.zyg.gen++
	gen := c.zyg.gen
	c.zyg.mu.Unlock()
	cfg := c.workerConfig(gen)
	z, err := worker.StartZygote(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.log.Info("zygote started: the app is imported once, workers are forked from it",
		"zygote", gen, "pid", z.PID())
	go c.watchZygote(z)
	return z, nil
}

// watchZygote logs the death of a zygote that should still be there; the
// next worker to start starts another (fork).
func (c *Container) watchZygote(z *worker.Zygote) {
	<-z.Done()
	c.zyg.mu.Lock()
	current := c.zyg.cur == z && !c.zyg.closed
	c.zyg.mu.Unlock()
	if current {
		c.log.Warn("zygote exited: the workers serve on, and the next one started imports the app again",
			"pid", z.PID(), "exit", z.Exit())
	}
}

// fork starts worker id from the current zygote, first starting a new
// zygote if that one has died.
func (c *Container) fork(ctx context.Context, id int) (*worker.Process, error) {
	for {
		z, err := c.zygote(ctx)
		if err != nil {
			return nil, err
		}
		p, err := z.Fork(ctx, c.workerConfig(id))
		if errors.Is(err, worker.ErrZygoteGone) && ctx.Err() == nil {
			continue // it died or was retired meanwhile: the next is asked
		}
		return p, err
	}
}

// zygote returns the current zygote, started anew if it has exited.
func (c *Container) zygote(ctx context.Context) (*worker.Zygote, error) {
	// Workers that die together wait for one new zygote.
	c.zyg.start.Lock()
	defer c.zyg.start.Unlock()
	c.zyg.mu.Lock()
	z, closed := c.zyg.cur, c.zyg.closed
	c.zyg.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if z != nil {
		select {
		case <-z.Done():
			c.log.Info("starting a new zygote", "old_pid", z.PID(), "old_exit", z.Exit())
		default:
			return z, nil
		}
	}
	z, err := c.startZygote(ctx)
	if err != nil {
		return nil, err
	}
	return z, c.setZygote(z)
}

// setZygote makes z the current zygote, unless the Container stops.
func (c *Container) setZygote(z *worker.Zygote) error {
	c.zyg.mu.Lock()
	defer c.zyg.mu.Unlock()
	if c.zyg.closed {
		z.Kill()
		return errClosed
	}
	c.zyg.cur = z
	return nil
}

// reloadZygote starts a zygote with the new code, from which the workers
// of a Reload are then forked. Its result is called with the outcome of
// the reload: the loser of old and new is retired, leaving once its
// workers have.
func (c *Container) reloadZygote(ctx context.Context) (func(ok bool), error) {
	c.zyg.start.Lock()
	defer c.zyg.start.Unlock()
	next, err := c.startZygote(ctx)
	if err != nil {
		return nil, err
	}
	c.zyg.mu.Lock()
	old := c.zyg.cur
	c.zyg.mu.Unlock()
	if err := c.setZygote(next); err != nil {
		return nil, err
	}
	return func(ok bool) {
		loser := old
		c.zyg.mu.Lock()
		if !ok && c.zyg.cur == next {
			c.zyg.cur, loser = old, next
		}
		if loser != nil {
			c.zyg.retired = append(pruneDone(c.zyg.retired), loser)
		}
		c.zyg.mu.Unlock()
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
func (c *Container) stopZygotes(ctx context.Context) {
	for _, z := range c.closeZygotes() {
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
func (c *Container) killZygotes() {
	for _, z := range c.closeZygotes() {
		z.Kill()
		<-z.Done()
	}
}

func (c *Container) closeZygotes() []*worker.Zygote {
	c.zyg.mu.Lock()
	defer c.zyg.mu.Unlock()
	c.zyg.closed = true
	all := c.zyg.retired
	if c.zyg.cur != nil {
		all = append(all, c.zyg.cur)
	}
	c.zyg.cur, c.zyg.retired = nil, nil
	return all
}

// startPreload starts the first zygote, with Config.Preload.
func (c *Container) startPreload(ctx context.Context) error {
	if !c.cfg.Preload {
		return nil
	}
	_, err := c.zygote(ctx)
	return err
}

// reload is the pool's Reload; with Config.Preload the new workers are
// forked from a new zygote, which imported the new code.
func (c *Container) reload(ctx context.Context) error {
	if !c.cfg.Preload {
		return c.pool.Reload(ctx)
	}
	settle, err := c.reloadZygote(ctx)
	if err != nil {
		return err
	}
	err = c.pool.Reload(ctx)
	settle(err == nil)
	return err
}
