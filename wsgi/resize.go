package wsgi

import (
	"context"
	"errors"
	"fmt"
)

// SetWorkers changes the number of worker processes to n, at least 1, as
// gunicorn does on SIGTTIN and SIGTTOU. New workers import the app and take
// requests once ready; removed ones take no more and leave once they have
// finished those they have. It returns when the new workers are ready, or
// with the error of one that failed to start (a *LoadError if the app no
// longer imports); the workers started before it stay. ctx bounds the
// start of new workers.
//
// Each request's wsgi.multiprocess says whether more than one worker takes
// requests as it arrives, so it follows SetWorkers: true from the moment
// workers are being added to a single one, false again once all but one
// have been removed. A worker that is leaving (removed here, or replaced
// on recycling or Reload) is not counted, as it takes no new requests and
// only finishes those it has: after SetWorkers(1) requests say false, as
// they do under gunicorn with one worker, whose replacements also overlap.
func (c *Container) SetWorkers(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("wsgi: SetWorkers(%d): want 1 or more workers", n)
	}
	if !c.gate.Running() {
		return errors.New("wsgi: SetWorkers on a Container that is not running")
	}
	c.resize.Lock()
	defer c.resize.Unlock()
	before := c.pool.Size()
	if n > 1 {
		// A request that a new worker takes must say true, and so must
		// the old worker's from then on.
		c.multiprocess.Store(true)
	}
	err := c.pool.Resize(ctx, n)
	c.multiprocess.Store(c.pool.Size() > 1)
	if err != nil {
		c.log.Error("workers not all added", "want", n, "have", c.pool.Size(), "err", err)
		return err
	}
	c.log.Info("workers resized", "from", before, "to", n)
	return nil
}

// NumWorkers returns the number of worker processes the Container keeps
// running: Config.Workers, or as SetWorkers last set it.
func (c *Container) NumWorkers() int {
	if c.pool == nil {
		return c.cfg.Workers
	}
	return c.pool.Size()
}
