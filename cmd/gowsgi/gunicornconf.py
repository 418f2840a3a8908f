"""Read a gunicorn config file and print its settings as JSON.

Run by gowsgi serve -c FILE (and for ./gunicorn.conf.py) with the app's
interpreter: python3 gunicornconf.py FILE, or python:MODULE. The file runs
as gunicorn runs it, as the module __config__ in a fresh namespace; what
it leaves there is printed on stdout as one JSON object:

    {"settings": {"workers": 5, ...}, "callables": ["post_fork", ...]}

settings holds every name that is not a module, not callable and not a
dunder; values JSON cannot hold are written as their repr, for gowsgi to
name in its error. callables are the names of the functions (gunicorn's
server hooks, and anything else callable) for gowsgi's hook runner. An
exception exits 1 with the traceback on stderr.
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import types


def load(location):
    """Return the namespace of the config file or python:MODULE."""
    if location.startswith("python:"):
        return vars(importlib.import_module(location[len("python:"):]))
    # As gunicorn's load_config_from_filename: any file name, .py or not.
    loader = importlib.machinery.SourceFileLoader("__config__", location)
    spec = importlib.util.spec_from_file_location("__config__", location, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["__config__"] = mod
    spec.loader.exec_module(mod)
    return vars(mod)


def split(namespace):
    """Split namespace into settings and the names of callables."""
    settings, callables = {}, []
    for name, value in namespace.items():
        if name.startswith("__") and name.endswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            continue
        if callable(value):
            callables.append(name)
        else:
            settings[name] = value
    return settings, sorted(callables)


def main():
    # The current directory, as for the command gunicorn runs from, so that
    # the file may import the project's modules.
    sys.path.insert(0, os.getcwd())
    # What the file prints goes to stderr: stdout carries the JSON only.
    out, sys.stdout = sys.stdout, sys.stderr
    settings, callables = split(load(sys.argv[1]))
    json.dump({"settings": settings, "callables": callables}, out, default=repr)


if __name__ == "__main__":
    main()
