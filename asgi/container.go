package asgi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/internal/asgiws"
	"github.com/gowsgi/gowsgi/internal/funnel"
	"github.com/gowsgi/gowsgi/internal/gate"
	"github.com/gowsgi/gowsgi/internal/lograte"
	"github.com/gowsgi/gowsgi/internal/pool"
	"github.com/gowsgi/gowsgi/internal/worker"
	"github.com/gowsgi/gowsgi/wsgi"
)

// A Container serves an ASGI application from a pool of Python worker
// processes. It is an http.Handler; Start it before serving.
type Container struct {
	cfg    Config
	log    *slog.Logger
	pool   *pool.Pool
	funnel funnel.Funnel // answers in the app's place
	gate   gate.Gate     // created, running, draining, closed; requests inside
	resize sync.Mutex    // one SetWorkers at a time

	// stopping is done once Shutdown begins: open WebSockets are closed
	// (1012) instead of holding the drain for its whole grace.
	stopping context.Context
	stop     context.CancelFunc

	// noBody is the first http.request of every request without a body:
	// streams only encode it, and nothing modifies it.
	noBody worker.Message

	wsBuffers asgiws.Buffers // the WebSockets' read buffers, lent while they have bytes
}

// NewContainer checks cfg and returns a Container for it. It finds the
// interpreter but starts nothing: call Start.
func NewContainer(cfg Config) (*Container, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	c := &Container{cfg: cfg, log: cfg.Logger,
		noBody: worker.Message{"type": "http.request", "body": []byte{}, "more_body": false}}
	c.stopping, c.stop = context.WithCancel(context.Background())
	c.funnel = funnel.Funnel{Log: cfg.Logger, Refusals: lograte.New(cfg.Logger, time.Second),
		Respond: func(w http.ResponseWriter, r *http.Request, status int, id string, err error) {
			wsgi.ErrorResponse(cfg.ErrorHandler, w, r, status, id, err)
		}}
	c.pool = pool.New(pool.Config{
		Workers:     cfg.Workers,
		CPUAffinity: cfg.CPUAffinity,
		MaxWaiting:  max(cfg.Backlog, 0),
		MaxWait:     max(cfg.QueueTimeout, 0),

		MaxRequests:       cfg.MaxRequests,
		MaxRequestsJitter: cfg.MaxRequestsJitter,
		MaxMemory:         cfg.MaxWorkerMemory,
		MaxStreams:        cfg.MaxStreams,

		Worker: worker.Config{
			Python:     cfg.Python,
			App:        cfg.App,
			Dir:        cfg.Dir,
			PythonPath: cfg.PythonPath,
			Env:        cfg.WorkerEnv(),
			Hooks:      cfg.Hooks,
			Interface:  "asgi",
			Timeout:    max(cfg.Timeout, 0),
		},
		Exited:        workerExited(cfg.WorkerExited),
		Preload:       cfg.Preload,
		ReloadTimeout: max(cfg.ReloadTimeout, 0),
		Logger:        cfg.Logger,
	})
	return c, nil
}

// workerExited adapts Config.WorkerExited (gunicorn's child_exit) to the
// pool's callback, nil if none.
func workerExited(f func(wsgi.WorkerExit)) func(*worker.Process, string) {
	if f == nil {
		return nil
	}
	return func(p *worker.Process, exit string) {
		f(wsgi.WorkerExit{ID: p.ID, PID: p.PID(), Age: p.Age, Exit: exit})
	}
}

// Python returns the path of the interpreter that runs the workers:
// Config.Python, or the one found in its place.
func (c *Container) Python() string { return c.cfg.Python }

// Start starts the workers and returns once each has imported the app and
// run its lifespan startup. If the app fails to import, or its startup
// fails, the error is a *wsgi.LoadError with the Python traceback (or the
// startup.failed message) and no worker is left running. ctx bounds the
// start-up only.
func (c *Container) Start(ctx context.Context) error {
	if err := c.gate.Begin(); err != nil {
		return fmt.Errorf("asgi: Container %w", err)
	}
	if err := c.pool.Start(ctx); err != nil {
		c.gate.Close()
		return err
	}
	if !c.gate.Open() {
		return fmt.Errorf("asgi: Container closed while it started: %w", pool.ErrStopped)
	}
	info := c.Info()
	c.log.Info("serving ASGI app", "app", c.cfg.App, "python", info.Python,
		"version", info.Implementation+" "+info.Version, "workers", c.cfg.Workers,
		"loop", info.Loop, "lifespan", info.Lifespan, "max_streams", c.cfg.MaxStreams)
	return nil
}

// Reload starts new workers, which import the app afresh, and once all are
// ready sends new requests to them while the old workers finish theirs
// (and run lifespan shutdown). If the new version does not load, the old
// workers serve on and the error is returned.
func (c *Container) Reload(ctx context.Context) error {
	if !c.gate.Running() {
		return errors.New("asgi: Reload of a Container that is not running")
	}
	if err := c.pool.Reload(ctx); err != nil {
		c.log.Error("reload failed: the old workers serve on", "err", err)
		return err
	}
	c.log.Info("reloaded", "app", c.cfg.App, "workers", c.pool.Size())
	return nil
}

// Shutdown stops taking requests (new ones get 503), waits for those in
// flight to finish, then stops the workers, each running the app's
// lifespan shutdown. Open WebSockets are closed at once with 1012 "server
// restart", and waited for until their app has ended. If ctx is done first, the workers are killed and
// ctx's error is returned.
func (c *Container) Shutdown(ctx context.Context) error {
	c.stop()
	ok, err := c.gate.Drain(ctx)
	if !ok {
		return c.Close()
	}
	if perr := c.pool.Stop(ctx); err == nil {
		err = perr
	}
	c.gate.Close()
	c.funnel.Refusals.Close()
	return err
}

// Close kills the workers at once; requests in flight fail.
func (c *Container) Close() error {
	if c.gate.Close() {
		return nil
	}
	c.pool.Close()
	c.funnel.Refusals.Close()
	return nil
}

// SetWorkers changes the number of worker processes to n, at least 1, as
// wsgi.Container.SetWorkers does.
func (c *Container) SetWorkers(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("asgi: SetWorkers(%d): want 1 or more workers", n)
	}
	if !c.gate.Running() {
		return errors.New("asgi: SetWorkers on a Container that is not running")
	}
	c.resize.Lock()
	defer c.resize.Unlock()
	before := c.pool.Size()
	if err := c.pool.Resize(ctx, n); err != nil {
		c.log.Error("workers not all added", "want", n, "have", c.pool.Size(), "err", err)
		return err
	}
	c.log.Info("workers resized", "from", before, "to", n)
	return nil
}

// NumWorkers returns the number of worker processes the Container keeps
// running: Config.Workers, or as SetWorkers last set it.
func (c *Container) NumWorkers() int { return c.pool.Size() }

// Info describes the interpreter and the application of a started
// Container, as its workers report them.
type Info struct {
	wsgi.Info
	Loop     string // the workers' event loop: "uvloop" or "asyncio"
	Lifespan string // "on", or "unsupported" for an app without lifespan
}

// Info returns what the workers of c report; it is empty until Start has
// succeeded.
func (c *Container) Info() Info {
	for _, p := range c.pool.Workers() {
		i := p.Info
		return Info{Info: wsgi.Info{Python: i.Executable, Version: i.Version, Implementation: i.Implementation, App: i.App},
			Loop: i.Loop, Lifespan: i.Lifespan}
	}
	return Info{}
}
