package gunicorn

// A Hook is one of gunicorn's server hooks, a function its config file
// defines, and where gowsgi runs it.
type Hook struct {
	Name string
	Runs Where
}

// Where is where a server hook runs.
type Where int

const (
	// NotRun: gowsgi has no such moment. pre_fork and pre_exec: workers
	// are started by the Go server or forked by the zygote, never
	// re-exec'd; worker_int's SIGINT and ssl_context's TLS are Go's.
	NotRun Where = iota

	// InHelper: in the hooks helper, one Python process beside the
	// workers (package hooks), at the server's moments.
	InHelper

	// InWorker: in each worker, by the worker runtime (_gowsgi/hooks.py).
	InWorker
)

// Hooks returns gunicorn's server hooks (23.0), in gunicorn's order.
func Hooks() []Hook {
	return []Hook{
		{"on_starting", InHelper}, {"on_reload", InHelper}, {"when_ready", InHelper},
		{"pre_fork", NotRun}, {"post_fork", InWorker}, {"post_worker_init", InWorker},
		{"worker_int", NotRun}, {"worker_abort", InWorker}, {"pre_exec", NotRun},
		{"pre_request", InWorker}, {"post_request", InWorker}, {"child_exit", InHelper},
		{"worker_exit", InWorker}, {"nworkers_changed", InHelper}, {"on_exit", InHelper},
		{"ssl_context", NotRun},
	}
}

// LookupHook returns the server hook name, if it is one of gunicorn's.
func LookupHook(name string) (Hook, bool) {
	for _, h := range Hooks() {
		if h.Name == name {
			return h, true
		}
	}
	return Hook{}, false
}
