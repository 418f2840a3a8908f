package wsgi

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// Config.Hooks: the worker hooks of a gunicorn config file run in the
// workers (internal/pyruntime/_gowsgi/hooks.py), each called with objects
// that carry what gunicorn's hooks use: worker.pid, worker.age (the
// worker's number among those started, from 1), worker.log (whose lines
// reach the server's log with their level), worker.alive; req.method,
// req.path, req.query, req.headers ((NAME, value) pairs); resp.status,
// resp.headers. A hook that raises is logged with its traceback and the
// worker goes on, but for pre_request: its request gets 500 without
// reaching the app, as under gunicorn. Without pre_request and
// post_request a request runs no hook code at all.

// abortGrace is how long a worker's worker_abort hook may take, on a
// timeout, before the worker is killed.
const abortGrace = 2 * time.Second

// A WorkerExit is a worker process that has ended (Config.WorkerExited).
type WorkerExit struct {
	ID   int    // its seat, 0 to Workers-1
	PID  int    // its process id
	Age  int64  // its number among the workers started, from 1
	Exit string // how it ended, as "exit status 1" or "signal: killed"
}

// hooksFile checks Config.Hooks and makes it absolute: the workers run in
// Config.Dir. "python:MODULE", gunicorn's name of a config module on
// sys.path, stays as it is.
func hooksFile(path string) (string, error) {
	if path == "" || strings.HasPrefix(path, "python:") {
		return path, nil
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		return "", fmt.Errorf("wsgi: Config.Hooks %q: %w", path, err)
	}
	return abs, nil
}

// workerExited is the pool's Exited for Config.WorkerExited.
func (cfg Config) workerExited() func(*worker.Process, string) {
	if cfg.WorkerExited == nil {
		return nil
	}
	return func(p *worker.Process, exit string) {
		cfg.WorkerExited(WorkerExit{ID: p.ID, PID: p.PID(), Age: p.Age, Exit: exit})
	}
}

// Python returns the path of the interpreter that runs the workers:
// Config.Python, or the one found in its place.
func (c *Container) Python() string { return c.cfg.Python }
