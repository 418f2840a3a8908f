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
	a.wsMaxMessage = 1 << 20
	a.wsDeflate = true
	fs.Var(&a.iface, "interface", "the app's `INTERFACE`: asgi, wsgi, or auto, which imports the app once in a probe process and takes asgi for a coroutine function or an object whose __call__ is one (default auto)")
	fs.Var((*intValue)(&a.maxStreams), "max-streams", "ASGI: `N` requests and websockets each worker serves at once on its event loop; past it they wait (--backlog, --queue-timeout) (default 1000)")
	fs.Var((*limitValue)(&a.wsMaxMessage), "ws-max-message", "ASGI: largest WebSocket message in `BYTES` a client may send (64K, 16M), larger closes with 1009; 0 means no limit (default 1M)")
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
}

// newContainer returns the container of cfg's app for its interface
// (--interface; auto asks the app), which it logs.
func newContainer(o *serveOptions, cfg wsgi.Config) (container, error) {
	iface := string(o.iface)
	if iface == "" {
		iface = "auto"
	}
	log := cfg.Logger
	if iface == "auto" {
		rc, err := cfg.Resolve()
		if err != nil {
			return nil, err
		}
		if iface, err = probeInterface(rc); err != nil {
			return nil, err
		}
		log.Info("interface detected", "interface", iface, "app", cfg.App)
	} else {
		log.Info("interface", "interface", iface, "app", cfg.App)
	}
	if iface == "wsgi" {
		return wsgi.NewContainer(cfg)
	}
	if cfg.Threads > 1 {
		log.Warn("--threads does not apply to an ASGI app: each worker runs one event loop (see --max-streams)", "threads", cfg.Threads)
	}
	cfg.Threads = 0
	maxMessage := o.wsMaxMessage
	if maxMessage == 0 {
		maxMessage = -1
	}
	return asgi.NewContainer(asgi.Config{Config: cfg, MaxStreams: o.maxStreams,
		MaxWebSocketMessage: maxMessage, WebSocketCompression: o.wsDeflate})
}

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
func probeInterface(cfg wsgi.Config) (string, error) {
	dir, err := os.MkdirTemp("", "gowsgi-probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := pyruntime.Install(dir); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
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
		return "", fmt.Errorf("--interface auto: importing the app took over %v; say --interface asgi or wsgi", probeTimeout)
	}
	return "", &wsgi.LoadError{App: cfg.App, Traceback: stderr.String()}
}
