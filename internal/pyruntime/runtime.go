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

// Bootstrap is the program given to the interpreter with -c. Its first
// argument is the directory returned by Install; the rest are the worker's:
// the app spec, the number of threads, the PYTHONPATH entries and the
// largest payload Go accepts in a frame other than Data (frame.MaxMeta),
// which the worker must not exceed: Go kills a worker that does; then, for
// an ASGI worker, the interface "asgi" (absent, the worker is a WSGI one):
// one channel, served by an event loop (_gowsgi/asgi.py).
const Bootstrap = "import sys; sys.path.insert(0, sys.argv[1]); " +
	"from _gowsgi.worker import main; main(sys.argv[2:])"

// ZygoteBootstrap is the program of the zygote of preload, which imports
// the app and forks workers: the arguments are the runtime's directory,
// the app spec, the PYTHONPATH entries and frame.MaxMeta, then "asgi" for
// an ASGI app, whose forked workers make their event loop in the child.
const ZygoteBootstrap = "import sys; sys.path.insert(0, sys.argv[1]); " +
	"from _gowsgi.zygote import main; main(sys.argv[2:])"
