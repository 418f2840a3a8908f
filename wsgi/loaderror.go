package wsgi

import "github.com/gowsgi/gowsgi/internal/worker"

// LoadError is the error of Start and Reload when the application fails to
// import: it carries the Python traceback. A worker that fails this way exits
// with status 4 and is never restarted in a loop.
//
//	var le *wsgi.LoadError
//	if errors.As(err, &le) { fmt.Fprint(os.Stderr, le.Traceback) }
type LoadError = worker.LoadError
