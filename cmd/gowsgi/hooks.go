package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gowsgi/gowsgi/internal/hooks"
	"github.com/gowsgi/gowsgi/wsgi"
)

// hooksFile is the gunicorn config file whose server hooks run (the one
// -c, GOWSGI_CONFIG or ./gunicorn.conf.py named), or "".
func (o *serveOptions) hooksFile() string { return o.gunicornConfig }

// serverHooks runs gunicorn's master hooks at the server's moments: each
// in the hooks helper (package hooks), which waits for it to return. The
// worker hooks are the workers' (wsgi.Config.Hooks). Without a config
// file it does nothing.
type serverHooks struct {
	m       *hooks.Master // nil without a config file
	workers func() int    // the number of workers now
	log     *slog.Logger
	exits   sync.WaitGroup // child_exit calls under way

	mu      sync.Mutex
	exiting bool // on_exit's turn: no child_exit starts
}

// start starts the helper, which reads file, and runs nworkers_changed
// and on_starting, before the server binds, as gunicorn's arbiter does.
func (h *serverHooks) start(o *serveOptions, c container, log *slog.Logger) error {
	h.log, h.workers = log, c.NumWorkers
	file := o.hooksFile()
	if file == "" {
		return nil
	}
	if !strings.HasPrefix(file, "python:") {
		// The helper runs in --chdir, as the workers.
		var err error
		if file, err = filepath.Abs(file); err != nil {
			return err
		}
	}
	m, err := hooks.Start(context.Background(), hooks.Config{
		File:       file,
		Python:     c.Python(),
		Dir:        o.chdir,
		PythonPath: o.pythonPath,
		Env:        append(os.Environ(), append([]string{"PYTHONUNBUFFERED=1"}, o.env...)...),
		Logger:     log,
	})
	if err != nil {
		return err
	}
	h.m = m
	ctx := context.Background()
	h.run(ctx, hooks.Call{Hook: "nworkers_changed", Args: []any{h.workers(), nil}})
	h.run(ctx, hooks.Call{Hook: "on_starting"})
	return nil
}

// run runs a hook, with the server's number of workers; a nil h runs
// none.
func (h *serverHooks) run(ctx context.Context, c hooks.Call) {
	if h == nil || h.m == nil {
		return
	}
	c.Server = map[string]any{"num_workers": h.workers()}
	if err := h.m.Run(ctx, c); err != nil {
		h.log.Error("server hook failed", "hook", c.Hook, "err", err)
	}
}

// whenReady runs when_ready, once the workers are ready and the server
// listens.
func (h *serverHooks) whenReady(ctx context.Context) {
	h.run(ctx, hooks.Call{Hook: "when_ready"})
}

// onReload runs on_reload, before the new workers start.
func (h *serverHooks) onReload(ctx context.Context) {
	h.run(ctx, hooks.Call{Hook: "on_reload"})
}

// nworkersChanged runs nworkers_changed after SIGTTIN or SIGTTOU.
func (h *serverHooks) nworkersChanged(ctx context.Context, now, before int) {
	h.run(ctx, hooks.Call{Hook: "nworkers_changed", Args: []any{now, before}})
}

// childExit runs child_exit for a worker that has ended: the Container's
// WorkerExited, which must not wait for it. exit waits.
func (h *serverHooks) childExit(w wsgi.WorkerExit) {
	if h.m == nil || !h.m.Defined("child_exit") {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.exiting {
		return
	}
	h.exits.Add(1)
	go func() {
		defer h.exits.Done()
		h.run(context.Background(), hooks.Call{Hook: "child_exit",
			Worker: &hooks.Worker{PID: w.PID, Age: w.Age, Exit: w.Exit}})
	}()
}

// exit runs on_exit, after the child_exit calls under way, and stops the
// helper; ctx bounds both.
func (h *serverHooks) exit(ctx context.Context) {
	if h.m == nil {
		return
	}
	h.mu.Lock()
	h.exiting = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.exits.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	h.run(ctx, hooks.Call{Hook: "on_exit"})
	h.m.Close(ctx)
}
