package pool

import (
	"context"
	"fmt"
	"os"

	"github.com/gowsgi/gowsgi/internal/pyruntime"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// install writes the Python runtime the workers run to a new temporary
// directory, which Stop and Close remove.
func (p *Pool) install() error {
	dir, err := os.MkdirTemp("", "gowsgi-runtime-")
	if err != nil {
		return fmt.Errorf("pool: installing the Python runtime: %w", err)
	}
	if _, err := pyruntime.Install(dir); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("pool: installing the Python runtime in %s: %w", dir, err)
	}
	p.dir = dir
	return nil
}

// uninstall removes the runtime once no worker runs it.
func (p *Pool) uninstall() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// workerConfig is how worker (or zygote) id is started.
func (p *Pool) workerConfig(id int) worker.Config {
	cfg := p.cfg.Worker
	cfg.ID = id
	cfg.RuntimeDir = p.dir
	if cfg.Logger == nil {
		cfg.Logger = p.log
	}
	return cfg
}

// spawn starts worker id, forked from the zygote with Config.Preload, and
// returns it once its app is imported.
func (p *Pool) spawn(ctx context.Context, id int) (*worker.Process, error) {
	p.spawned.Add(1)
	if p.cfg.Preload {
		return p.fork(ctx, id)
	}
	return worker.Start(ctx, p.workerConfig(id))
}
