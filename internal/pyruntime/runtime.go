// Package pyruntime holds the Python side of gowsgi: the worker runtime, a
// small package of standard-library-only modules embedded in the binary, so
// that any CPython from 3.8 up, PyPy or a virtualenv's interpreter can run
// it with nothing installed.
package pyruntime

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed _gowsgi/*.py
var files embed.FS

// Package is the import name of the embedded runtime.
const Package = "_gowsgi"

// LoadErrorStatus is the exit status of a worker whose app failed to import,
// as gunicorn's 4: a supervisor must not restart it in a loop.
const LoadErrorStatus = 4

// Install writes the runtime under dir, which must exist, and returns the
// directory to put on the worker's sys.path.
func Install(dir string) (string, error) {
	err := fs.WalkDir(files, Package, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	return dir, err
}

// ConfigScript is the program that prints the settings of the gunicorn
// config file named by its argument (or python:MODULE) as JSON, run with
// -c: the runtime's config.py, which the worker hooks read their file
// with too.
func ConfigScript() string {
	b, err := files.ReadFile(Package + "/config.py")
	if err != nil {
		panic(err) // embedded
	}
	return string(b)
}

// Bootstrap is the program given to the interpreter with -c. Its first
// argument is the directory returned by Install; the rest are the worker's:
// the app spec, the number of threads, the PYTHONPATH entries, the
// largest payload Go accepts in a frame other than Data (frame.MaxMeta),
// which the worker must not exceed (Go kills a worker that does), the
// gunicorn config file whose worker hooks run ("": none) and the worker's
// age, which its hooks see; then, for an ASGI worker, the interface
// "asgi" (absent, the worker is a WSGI one): one channel, served by an
// event loop (_gowsgi/asgi.py).
const Bootstrap = "import sys; sys.path.insert(0, sys.argv[1]); " +
	"from _gowsgi.worker import main; main(sys.argv[2:])"

// ZygoteBootstrap is the program of the zygote of preload, which imports
// the app and forks workers: the arguments are the runtime's directory,
// the app spec, the PYTHONPATH entries, frame.MaxMeta and the config file
// of the worker hooks, then "asgi" for an ASGI app, whose forked workers
// make their event loop in the child.
const ZygoteBootstrap = "import sys; sys.path.insert(0, sys.argv[1]); " +
	"from _gowsgi.zygote import main; main(sys.argv[2:])"

// HelperBootstrap is the program of the hooks helper, which runs the
// master hooks of a gunicorn config file (_gowsgi/master.py): the
// arguments are the runtime's directory, the config file and the
// PYTHONPATH entries.
const HelperBootstrap = "import sys; sys.path.insert(0, sys.argv[1]); " +
	"from _gowsgi.master import main; sys.exit(main(sys.argv[2:]))"
