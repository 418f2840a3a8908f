package main

import (
	"flag"
	"os"
)

// defaultPythonEnv names the interpreter that launched gowsgi, the default
// of --python. gowsgi installed from a wheel is run by a Python launcher
// (pip's gowsgi script, or python -m gowsgi: gowsgi/__main__.py of
// adapter/python), which sets it to its sys.executable and execs this
// binary; without --python, GOWSGI_PYTHON or python in --config, the
// workers then run in the environment gowsgi was installed into, as
// gunicorn's do, with its packages and its sys.prefix. The variable is the
// launcher's, not a setting: GOWSGI_PYTHON is the setting.
const defaultPythonEnv = "GOWSGI_DEFAULT_PYTHON"

// pythonUsage is the help of --python.
const pythonUsage = "the Python interpreter `PYTHON` (default: run from a pip-installed wheel, the Python of its environment; else $VIRTUAL_ENV/bin/python if set, else python3 in PATH)"

// pythonFlag returns the flag.Value of --python, which writes into p, and
// sets p to its default, the launcher's interpreter if there is one; an
// empty p leaves the choice to wsgi.Config ($VIRTUAL_ENV, then PATH).
func pythonFlag(p *string) flag.Value {
	*p = os.Getenv(defaultPythonEnv)
	return (*stringValue)(p)
}
