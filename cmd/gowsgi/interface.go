package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/asgi"
	"github.com/gowsgi/gowsgi/internal/pyruntime"
	"github.com/gowsgi/gowsgi/wsgi"
)

// asgiOptions are the flags of the interface and of ASGI apps.
type asgiOptions struct {
	iface        interfaceValue
	maxStreams   int
	wsMaxMessage int64
	wsDeflate    bool
}

// addASGIFlags adds --interface and the ASGI flags to fs.
func addASGIFlags(fs *flag.FlagSet, o *serveOptions) {
	a := &o.asgiOptions
	a.iface = "auto"
	a.wsDeflate = true
	fs.Var(&a.iface, "interface", "the app's `INTERFACE`: asgi, wsgi, or auto, which imports the app once in a probe process and takes asgi for a coroutine function or an object whose __call__ is one (default auto)")
	fs.Var((*intValue)(&a.maxStreams), "max-streams", "ASGI: `N` requests and websockets each worker serves at once on its event loop; past it they wait (--backlog, --queue-timeout) (default 1000)")
	fs.Var((*limitValue)(&a.wsMaxMessage), "ws-max-message", "ASGI: largest WebSocket message in `BYTES` a client may send (64K, 512K), larger closes with 1009; at most, and by default, what a worker's channel carries in one message, 1M less 4K")
	fs.Var((*boolValue)(&a.wsDeflate), "ws-per-message-deflate", "ASGI: compress WebSocket messages (permessage-deflate) for clients that offer it (default true)")
}

// interfaceValue is --interface: asgi, wsgi or auto.
type interfaceValue string

func (v *interfaceValue) String() string { return string(*v) }

func (v *interfaceValue) Set(s string) error {
	switch s {
	case "asgi", "wsgi", "auto":
		*v = interfaceValue(s)
		return nil
	}
	return fmt.Errorf("%q is not asgi, wsgi or auto", s)
}

// container is what serve runs: a wsgi.Container or an asgi.Container.
type container interface {
	http.Handler
	Start(ctx context.Context) error
	Reload(ctx context.Context) error
	Shutdown(ctx context.Context) error
	Close() error
	Stats() wsgi.Stats
	SetWorkers(ctx context.Context, n int) error
	NumWorkers() int
	Python() string
}

// newContainer returns the container of cfg's app for its interface,
// --interface, or, for auto, one that asks the app when it starts.
func newContainer(o *serveOptions, cfg wsgi.Config) (container, error) {
	w, err := wsgi.NewContainer(cfg)
	if err != nil || o.iface == "wsgi" {
		return w, err
	}
	acfg := cfg
	// Only a --threads the user chose is worth a warning: the default, 4,
	// is WSGI's (a user who passes --threads 4 to an ASGI app is not told).
	if acfg.Threads > 1 && acfg.Threads != defaultThreads && o.iface == "asgi" {
		cfg.Logger.Warn("--threads does not apply to an ASGI app: each worker runs one event loop (see --max-streams)", "threads", cfg.Threads)
	}
	acfg.Threads = 0
	a, err := asgi.NewContainer(asgi.Config{Config: acfg, MaxStreams: o.maxStreams,
		MaxWebSocketMessage: o.wsMaxMessage, WebSocketCompression: o.wsDeflate})
	if err != nil || o.iface == "asgi" {
		return a, err
	}
	return &autoContainer{cfg: cfg, wsgi: w, asgi: a}, nil
}

// autoContainer is --interface auto: Start imports the app once in a
// probe process (probeInterface), then starts the container of the
// interface the app speaks. Until then it serves 503.
type autoContainer struct {
	cfg  wsgi.Config
	wsgi *wsgi.Container
	asgi *asgi.Container

	mu sync.Mutex
	c  container // the one chosen, once Start has
}

func (a *autoContainer) chosen() container {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.c
}

// current is the container chosen, or before Start has chosen one the
// WSGI container, which answers as a container not started does (503,
// errors that it is not running).
func (a *autoContainer) current() container {
	if c := a.chosen(); c != nil {
		return c
	}
	return a.wsgi
}

func (a *autoContainer) Start(ctx context.Context) error {
	rc, err := a.cfg.Resolve()
	if err != nil {
		return err
	}
	iface, err := probeInterface(ctx, rc)
	if err != nil {
		return err
	}
	a.cfg.Logger.Info("interface detected", "interface", iface, "app", a.cfg.App)
	var c container = a.wsgi
	if iface == "asgi" {
		c = a.asgi
	}
	a.mu.Lock()
	a.c = c
	a.mu.Unlock()
	return c.Start(ctx)
}

func (a *autoContainer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.current().ServeHTTP(w, r)
}

func (a *autoContainer) Reload(ctx context.Context) error { return a.current().Reload(ctx) }

func (a *autoContainer) Shutdown(ctx context.Context) error { return a.current().Shutdown(ctx) }

func (a *autoContainer) Close() error { return a.current().Close() }

func (a *autoContainer) Stats() wsgi.Stats {
	if c := a.chosen(); c != nil {
		return c.Stats()
	}
	return wsgi.Stats{}
}

func (a *autoContainer) SetWorkers(ctx context.Context, n int) error {
	return a.current().SetWorkers(ctx, n)
}

// Python is the interpreter of both containers (one wsgi.Config).
func (a *autoContainer) Python() string { return a.wsgi.Python() }

func (a *autoContainer) NumWorkers() int { return a.current().NumWorkers() }

// probeTimeout bounds the import of the app by probeInterface.
const probeTimeout = 60 * time.Second

// probe imports the app as a worker would and says which interface it
// speaks. ASGI 3.0: a coroutine function, or an object (not a class)
// whose __call__ is one.
const probe = `import inspect, os, sys
sys.path.insert(0, sys.argv[1])
for p in reversed([p for p in sys.argv[3].split(os.pathsep) if p]):
    sys.path.insert(0, p)
sys.argv = [sys.argv[2]]
from _gowsgi import loader
app = loader.load(sys.argv[0])
asgi = inspect.iscoroutinefunction(app) or (not inspect.isclass(app) and
    inspect.iscoroutinefunction(getattr(app, "__call__", None)))
sys.stdout.flush()
os.write(1, b"\ngowsgi-interface: " + (b"asgi" if asgi else b"wsgi"))
`

// probeInterface runs probe with cfg's interpreter, directory, path and
// environment. An app that fails to import is a *wsgi.LoadError, as a
// worker's would be.
func probeInterface(ctx context.Context, cfg wsgi.Config) (string, error) {
	dir, err := os.MkdirTemp("", "gowsgi-probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := pyruntime.Install(dir); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.Python, "-c", probe, dir, cfg.App,
		strings.Join(cfg.PythonPath, string(os.PathListSeparator)))
	cmd.Dir = cfg.Dir
	cmd.Env = cfg.WorkerEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if _, tail, ok := bytes.Cut(out, []byte("\ngowsgi-interface: ")); ok && err == nil {
		return string(tail), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("--interface auto: the app was not imported in time (at most %v); say --interface asgi or wsgi: %w", probeTimeout, ctx.Err())
	}
	return "", &wsgi.LoadError{App: cfg.App, Traceback: stderr.String()}
}
