package wsgi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gowsgi/gowsgi/internal/environ"
	"github.com/gowsgi/gowsgi/internal/funnel"
	"github.com/gowsgi/gowsgi/internal/gate"
	"github.com/gowsgi/gowsgi/internal/pool"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// A Container serves a WSGI application from a pool of Python worker
// processes. It is an http.Handler; Start it before serving.
type Container struct {
	cfg  Config
	log  *slog.Logger
	pool *pool.Pool

	bodies    memBudget     // the request bodies in memory (body.go)
	spool     spoolBudget   // the request bodies on disk (spool.go)
	funnel    funnel.Funnel // answers in the app's place (errors.go)
	exchanges sync.Pool     // *worker.Exchange, reused
	gathers   sync.Pool     // *[]byte: gatherMax buffers, for small Data payloads

	// multiprocess is the wsgi.multiprocess of new requests: whether more
	// than one worker takes requests (see SetWorkers). resize serializes
	// SetWorkers, which sets it.
	multiprocess atomic.Bool
	resize       sync.Mutex

	gate gate.Gate // created, running, draining, closed; requests inside
}

// NewContainer checks cfg and returns a Container for it. It finds the
// interpreter but starts nothing: call Start.
func NewContainer(cfg Config) (*Container, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	c := &Container{cfg: cfg, log: cfg.Logger, funnel: cfg.newFunnel()}
	c.bodies.limit = cfg.MaxMemoryBodies
	c.spool.limit = cfg.MaxSpoolBytes
	// The pool exists, not started, from the first: Stats and Info, which
	// an admin server may call while Start runs, read it without a lock.
	c.multiprocess.Store(cfg.Workers > 1)
	c.pool = pool.New(pool.Config{
		Workers:     cfg.Workers,
		CPUAffinity: cfg.CPUAffinity,
		MaxWaiting:  cfg.Backlog,
		MaxWait:     cfg.QueueTimeout,

		MaxRequests:       cfg.MaxRequests,
		MaxRequestsJitter: cfg.MaxRequestsJitter,
		MaxMemory:         cfg.MaxWorkerMemory,

		Worker: worker.Config{
			Python:     cfg.Python,
			App:        cfg.App,
			Threads:    cfg.Threads,
			Dir:        cfg.Dir,
			PythonPath: cfg.PythonPath,
			Env:        cfg.workerEnv(),
			Hooks:      cfg.Hooks,
		},
		Exited:        cfg.workerExited(),
		Preload:       cfg.Preload,
		ReloadTimeout: cfg.ReloadTimeout,
		Logger:        cfg.Logger,
	})
	return c, nil
}

// Start starts the workers and returns once each has imported the app. If
// the app fails to import, the error carries the Python traceback and no
// worker is left running. ctx bounds the start-up only.
func (c *Container) Start(ctx context.Context) error {
	if err := c.gate.Begin(); err != nil {
		return fmt.Errorf("wsgi: Container %w", err)
	}
	if err := c.pool.Start(ctx); err != nil {
		c.gate.Close()
		return err
	}
	var info worker.Info
	if ws := c.pool.Workers(); len(ws) > 0 {
		info = ws[0].Info
	}
	if !c.gate.Open() {
		return fmt.Errorf("wsgi: Container closed while it started: %w", pool.ErrStopped)
	}
	c.log.Info("serving WSGI app", "app", c.cfg.App, "python", info.Executable,
		"version", info.Implementation+" "+info.Version, "workers", c.cfg.Workers, "threads", c.cfg.Threads)
	return nil
}

// Reload starts new workers, which import the app afresh (new code, new
// settings), and once all are ready sends new requests to them while the
// old workers finish theirs: no request fails. If the new version does not
// load, the old workers serve on and the error (with the Python
// traceback) is returned.
func (c *Container) Reload(ctx context.Context) error {
	if !c.gate.Running() {
		return errors.New("wsgi: Reload of a Container that is not running")
	}
	if err := c.pool.Reload(ctx); err != nil {
		c.log.Error("reload failed: the old workers serve on", "err", err)
		return err
	}
	c.log.Info("reloaded", "app", c.cfg.App, "workers", c.pool.Size())
	return nil
}

// Shutdown stops taking requests (new ones get 503), waits for those in
// flight to finish, then stops the workers. If ctx is done first, the
// workers are killed and ctx's error is returned.
func (c *Container) Shutdown(ctx context.Context) error {
	ok, err := c.gate.Drain(ctx)
	if !ok {
		return c.Close()
	}
	if perr := c.pool.Stop(ctx); err == nil {
		err = perr
	}
	c.finish()
	return err
}

// Close kills the workers at once; requests in flight fail.
func (c *Container) Close() error {
	if c.gate.Close() {
		return nil
	}
	if c.pool != nil {
		c.pool.Close()
	}
	c.finish()
	return nil
}

func (c *Container) finish() {
	c.gate.Close()
	c.funnel.Refusals.Close() // what it held back is logged now
}

// maxAttempts bounds how often a request is offered to another worker when
// it could not even be written to one (the worker had just died).
const maxAttempts = 3

// ServeHTTP runs the application for r.
func (c *Container) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.gate.Enter() {
		c.fail(w, r, false, http.StatusServiceUnavailable, ErrNotRunning)
		return
	}
	defer c.gate.Leave()
	if p := r.URL.Path; p != "" && p[0] != '/' {
		// "GET *" (or an "OPTIONS *" that no server answered): PATH_INFO
		// must be empty or start with "/", and no app expects "*".
		c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: the request target %q is not a path", ErrBadRequest, p))
		return
	}
	script, pathInfo, ok := environ.Mount(r.URL.Path, c.cfg.Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, ok := c.readBody(w, r)
	if !ok {
		return
	}
	defer body.release()
	ex, _ := c.exchanges.Get().(*worker.Exchange)
	if ex == nil {
		ex = new(worker.Exchange)
	}
	defer c.exchanges.Put(ex)
	ex.StartRequest()
	environ.Build(r, script, pathInfo, ex)
	ex.AddBool("wsgi.multiprocess", c.multiprocess.Load())
	ex.EndRequest(body.mem, body.file)
	for attempt := 1; ; attempt++ {
		conn, err := c.pool.Acquire(r.Context(), ex)
		switch {
		case errors.Is(err, pool.ErrNotSent):
			// Nothing reached the worker: it is safe to try another.
			c.pool.Abandon(conn)
			if attempt < maxAttempts {
				continue
			}
			c.fail(w, r, false, http.StatusBadGateway,
				fmt.Errorf("%w: no worker took the request (last: worker %d): %v", ErrWorkerLost, conn.Proc.ID, err))
		case errors.Is(err, pool.ErrQueueFull), errors.Is(err, pool.ErrWaitedTooLong):
			c.fail(w, r, false, http.StatusServiceUnavailable, fmt.Errorf("%w: %v", ErrOverloaded, err), "reason", err.Error())
		case err != nil:
			if r.Context().Err() == nil {
				c.fail(w, r, false, http.StatusServiceUnavailable, fmt.Errorf("%w: it is stopping", ErrNotRunning))
			}
		default:
			c.respond(w, r, ex)
		}
		return
	}
}
