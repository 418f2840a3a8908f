package worker

import (
	"slices"
	"syscall"
	"time"
)

// A worker whose Config.Hooks names a gunicorn config file runs the worker
// hooks it defines (post_fork, post_worker_init, pre_request,
// post_request, worker_exit, worker_abort: _gowsgi/hooks.py); its Ready
// frame lists them, in Info.Hooks.

// readHooks reads the Ready frame's list of hooks.
func readHooks(v any) []string {
	list, _ := v.([]any)
	var names []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			names = append(names, s)
		}
	}
	return names
}

// HasHook reports whether the worker's config file defines hook.
func (p *Process) HasHook(hook string) bool { return slices.Contains(p.Info.Hooks, hook) }

// Abort runs the worker_abort hook of a worker that is to be killed for a
// timeout, if its config file defines one: SIGABRT, as gunicorn's arbiter
// sends, whose handler calls the hook and exits; Abort waits for the exit,
// at most limit. Without the hook it does nothing: SIGABRT would dump core.
func (p *Process) Abort(limit time.Duration) {
	if !p.HasHook("worker_abort") || p.Signal(syscall.SIGABRT) != nil {
		return
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	}
}
