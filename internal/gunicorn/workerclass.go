package gunicorn

import (
	"fmt"
	"strings"
)

// A Worker is what a gunicorn worker class is in gowsgi.
type Worker int

const (
	// Threads: sync and gthread, which gowsgi's WSGI workers are, one
	// request at a time per thread (--threads).
	Threads Worker = iota

	// ASGI: uvicorn's workers, an ASGI app on one event loop per worker,
	// which gowsgi's ASGI workers are (--interface asgi).
	ASGI

	// Unsupported: gevent, eventlet and tornado, for many slow requests at
	// once, which Go's reading and writing of HTTP makes needless: served
	// with Threads, and warned of.
	Unsupported
)

// WorkerClass returns what gunicorn's worker class (worker_class, -k) is
// in gowsgi; a class it does not know is an error. Gunicorn's prefixes
// gunicorn.workers. and egg:gunicorn# may come before the name.
func WorkerClass(class string) (Worker, error) {
	switch strings.TrimPrefix(strings.TrimPrefix(class, "gunicorn.workers."), "egg:gunicorn#") {
	case "sync", "gthread", "sync.SyncWorker", "gthread.ThreadWorker":
		return Threads, nil
	case "uvicorn.workers.UvicornWorker", "uvicorn_worker.UvicornWorker", "uvicorn.workers.UvicornH11Worker":
		return ASGI, nil
	case "gevent", "eventlet", "tornado", "ggevent.GeventWorker", "geventlet.EventletWorker", "gtornado.TornadoWorker":
		return Unsupported, nil
	}
	return 0, fmt.Errorf("%q is not a worker class gowsgi knows: sync or gthread (--threads)", class)
}
