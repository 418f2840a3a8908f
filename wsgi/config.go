package wsgi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Config configures a Container. Only App is required: the zero value of
// every other field is the documented default. Every limit is spelled the
// same way: 0 is its default, and NoLimit (any negative value) lifts it.
type Config struct {
	// App names the WSGI application as MODULE:CALLABLE, gunicorn's form:
	// "mysite.wsgi:application", "app:create_app()" (a factory, called once
	// per worker; literal arguments are allowed). Without ":CALLABLE" the
	// callable is "application".
	App string

	// Python is the interpreter that runs the workers: any CPython from 3.8
	// up or PyPy. If empty, $VIRTUAL_ENV/bin/python when VIRTUAL_ENV is set,
	// else "python3" looked up in PATH.
	Python string

	// Dir is the workers' working directory, which is also first on their
	// sys.path; "" means the server's own.
	Dir string

	// PythonPath lists directories put before everything else on sys.path.
	PythonPath []string

	// Env holds "KEY=value" entries added to the workers' environment,
	// which is otherwise the server's own.
	Env []string

	// Workers is the number of worker processes; 0 means runtime.NumCPU().
	Workers int

	// Threads is the number of threads in each worker; 0 means 1.
	Threads int

	// CPUAffinity, if not 0, pins every thread of each worker process to
	// that many CPUs, taken in turn from those the server may run on (its
	// own affinity: taskset, a container's cpuset): with 1, worker 0 runs
	// on the first CPU, worker 1 on the second, and so on around. A worker
	// that keeps its CPU keeps its caches warm, and on a machine whose
	// cores the workers fill, an app that spends long in Python serves
	// more requests (Django: about 1.2x on 2 cores); an app that returns
	// at once can serve fewer, since a pinned worker cannot move to the
	// core the server's Go code leaves idle. Linux only: elsewhere Start
	// fails. 0 (the default) leaves placement to the kernel.
	CPUAffinity int

	// Prefix mounts the application under a path, as http.StripPrefix
	// would but on a path-segment boundary: with "/app", "/app/x" has
	// SCRIPT_NAME "/app" and PATH_INFO "/x", while "/apple" is not found.
	// "" means the root.
	Prefix string

	// MaxRequestBody is the largest request body accepted, in bytes; larger
	// ones get 413. 0 means 1 GiB; a negative value means no limit.
	MaxRequestBody int64

	// MaxMemoryBody is the largest request body held in memory; larger ones
	// are spooled to a file in SpoolDir. 0 means 1 MiB; a negative value
	// spools every body.
	MaxMemoryBody int64

	// MaxMemoryBodies bounds the bytes that all the request bodies held in
	// memory take together, from the moment they are read until their
	// exchange with the worker ends (requests waiting for a worker hold
	// theirs). A body takes its buffer from this budget as it grows; one
	// that does not fit is spooled to SpoolDir like a large one, at once,
	// never waiting. 0 means 64 MiB, or MaxMemoryBody if larger: room for
	// 64 bodies of 1 MiB at once, more than the workers can take at once
	// on most machines, or thousands of small form posts, while a flood of
	// clients that send large bodies and stall costs the server no more
	// than that. A negative value means no limit.
	MaxMemoryBodies int64

	// MaxSpoolBytes bounds the bytes that all the spooled request bodies
	// take on disk together, from the moment they are read until their
	// exchange with the worker ends. A body takes its bytes from this
	// budget as they arrive; once it is spent, the request that needs more
	// gets 503 with Retry-After (ErrOverloaded) and its connection is
	// closed, so that many concurrent large uploads cannot fill the disk.
	// 0 means 4 GiB, or MaxRequestBody if larger: room for four bodies of
	// the largest size by default. Set below MaxRequestBody, a body larger
	// than it always gets 503. A negative value means no limit.
	MaxSpoolBytes int64

	// SpoolDir is where large request bodies are spooled; "" means
	// os.TempDir() ($TMPDIR, else /tmp).
	SpoolDir string

	// Timeout is how long the app may work on a request without sending
	// any of its response (each chunk starts the count again). Past it, the
	// worker's Python stacks go to the log, the worker is killed and
	// replaced, and the client gets 504. 0 means 30 seconds; a negative
	// value means no limit.
	Timeout time.Duration

	// ReloadTimeout bounds Reload: if the new workers have not all
	// imported the app in time, they are killed and the old ones serve
	// on. 0 means Timeout's value; a negative value means no limit.
	ReloadTimeout time.Duration

	// Backlog is how many requests may wait for a free worker thread;
	// past it, a request gets 503 with Retry-After at once, rather than
	// unbounded latency. 0 means 1024; a negative value means no limit.
	Backlog int

	// QueueTimeout is how long a request may wait for a free worker
	// thread before it gets 503 with Retry-After. 0 means 30 seconds; a
	// negative value means no limit.
	QueueTimeout time.Duration

	// MaxRequests recycles a worker once it has been handed this many
	// requests, plus a random 0 to MaxRequestsJitter, so that workers do not
	// all recycle at once: a guard against slow leaks. It is a cap: the
	// worker takes no more, finishes those it has and leaves; its
	// replacement is started ahead, at three quarters of the count, and
	// the other workers serve meanwhile. If the replacement fails to
	// start (the app no longer imports), the worker serves on past the
	// cap, with a warning in the log, while it is tried again with
	// backoff. 0 means never.
	MaxRequests       int64
	MaxRequestsJitter int64

	// MaxWorkerMemory recycles a worker whose resident memory exceeds this
	// many bytes, checked every second, in the same way. 0 means no limit.
	MaxWorkerMemory int64

	// Preload imports the app once in a template process (the zygote) and
	// forks workers from it: they share its memory copy-on-write and start
	// in milliseconds. Without it each worker imports the app itself. A
	// zygote that dies is started again (importing again) when a worker is
	// next needed; Reload starts a new one with the new code. The app must
	// not start threads or open connections at import that workers would
	// share, as with gunicorn's --preload.
	Preload bool

	// ErrorHandler, if not nil, writes the response whenever the Container
	// answers in the app's place: the app raised (500) or its response
	// broke PEP 3333 (500), its worker died (502) or it timed out (504),
	// every worker is busy or the app is not running (503), or the request
	// cannot be served (4xx). err is an *Error, whose Status is the code
	// to send and whose cause is one of the Err* values (errors.Is); its
	// text is for logs, not for clients. The headers are cleared before it
	// is called, except X-Request-Id (and Retry-After for 503). nil means
	// DefaultErrorHandler: the status text and the request id. It is not
	// called once the app's response has started: the connection is cut.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Hooks names a gunicorn config file (gunicorn.conf.py) whose worker
	// hooks each worker runs, as gunicorn's workers do: post_fork,
	// post_worker_init, pre_request, post_request, worker_exit and, for
	// a worker killed for Timeout, worker_abort (hooks.go). A relative
	// path is the server's working directory's; "python:MODULE" names a
	// module on sys.path, as gunicorn's -c does. "" means none. WSGI
	// workers only: an ASGI worker (package asgi) runs none.
	Hooks string

	// WorkerExited, if not nil, is called once each worker process that
	// ran has ended, however it ended (gunicorn's child_exit): before
	// Shutdown or Close returns for those it waits for. It must not block.
	WorkerExited func(WorkerExit)

	// Logger receives the server's log and the workers' output; nil means
	// slog.Default().
	Logger *slog.Logger
}

// NoLimit, as the value of a Config limit (MaxRequestBody, Timeout,
// ReloadTimeout, Backlog, QueueTimeout, MaxMemoryBodies, MaxSpoolBytes),
// lifts it.
const NoLimit = -1

// Defaults, as documented on Config.
const (
	defaultMaxRequestBody = 1 << 30
	defaultMaxMemoryBody  = 1 << 20
	defaultMemoryBodies   = 64 << 20
	defaultSpoolBytes     = 4 << 30
	defaultTimeout        = 30 * time.Second
	defaultBacklog        = 1024
	defaultQueueTimeout   = 30 * time.Second
)

// resolve returns cfg with its defaults filled in, or an error naming the
// field that is wrong.
func (cfg Config) resolve() (Config, error) {
	mod, _, _ := strings.Cut(cfg.App, ":")
	if strings.TrimSpace(mod) == "" {
		return cfg, fmt.Errorf("wsgi: Config.App %q must name a module, as MODULE:CALLABLE", cfg.App)
	}
	if cfg.Workers < 0 {
		return cfg, fmt.Errorf("wsgi: Config.Workers is %d; it must be 0 (one per CPU) or more", cfg.Workers)
	}
	if cfg.Threads < 0 {
		return cfg, fmt.Errorf("wsgi: Config.Threads is %d; it must be 0 (one) or more", cfg.Threads)
	}
	if cfg.CPUAffinity < 0 {
		return cfg, fmt.Errorf("wsgi: Config.CPUAffinity is %d; it must be 0 (no pinning) or more", cfg.CPUAffinity)
	}
	if cfg.Prefix != "" && !strings.HasPrefix(cfg.Prefix, "/") {
		return cfg, fmt.Errorf("wsgi: Config.Prefix %q must start with /", cfg.Prefix)
	}
	if cfg.MaxRequests < 0 || cfg.MaxRequestsJitter < 0 || cfg.MaxWorkerMemory < 0 {
		return cfg, fmt.Errorf("wsgi: Config.MaxRequests, MaxRequestsJitter and MaxWorkerMemory must not be negative")
	}
	for _, kv := range cfg.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return cfg, fmt.Errorf("wsgi: Config.Env entry %q is not KEY=value", kv)
		}
	}
	python, err := findPython(cfg.Python)
	if err != nil {
		return cfg, err
	}
	if cfg.Hooks, err = hooksFile(cfg.Hooks); err != nil {
		return cfg, err
	}
	cfg.Python = python
	cfg.Prefix = strings.TrimRight(cfg.Prefix, "/")
	if cfg.Workers == 0 {
		cfg.Workers = runtime.NumCPU()
	}
	cfg.Threads = max(cfg.Threads, 1)
	if cfg.MaxRequestBody == 0 {
		cfg.MaxRequestBody = defaultMaxRequestBody
	}
	switch {
	case cfg.MaxMemoryBody == 0:
		cfg.MaxMemoryBody = defaultMaxMemoryBody
	case cfg.MaxMemoryBody < 0:
		cfg.MaxMemoryBody = 0
	}
	if cfg.MaxMemoryBodies == 0 {
		cfg.MaxMemoryBodies = max(defaultMemoryBodies, cfg.MaxMemoryBody)
	}
	if cfg.MaxSpoolBytes == 0 {
		cfg.MaxSpoolBytes = max(defaultSpoolBytes, cfg.MaxRequestBody)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.ReloadTimeout == 0 {
		cfg.ReloadTimeout = cfg.Timeout
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = defaultBacklog
	}
	if cfg.QueueTimeout == 0 {
		cfg.QueueTimeout = defaultQueueTimeout
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	} else if fi, err := os.Stat(cfg.SpoolDir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return cfg, fmt.Errorf("wsgi: Config.SpoolDir %q: %w", cfg.SpoolDir, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

func findPython(python string) (string, error) {
	what := "Config.Python"
	if python == "" {
		what = "python3 in PATH"
		python = "python3"
		if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
			what = "$VIRTUAL_ENV/bin/python"
			python = filepath.Join(venv, "bin", "python")
		}
	}
	path, err := exec.LookPath(python)
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return "", fmt.Errorf("wsgi: no Python interpreter (%s: %q): %w", what, python, err)
	}
	return path, nil
}

// workerEnv is the environment of the workers.
func (cfg Config) workerEnv() []string {
	env := append(os.Environ(), "PYTHONUNBUFFERED=1")
	return append(env, cfg.Env...)
}
