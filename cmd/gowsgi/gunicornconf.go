package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gowsgi/gowsgi/internal/gunicorn"
)

// A gunicorn config file (gunicorn.IsConfigFile: FILE.py, python:MODULE,
// or a file that gowsgi's key = value format cannot be) is run with the
// app's interpreter (--python), and its settings set the flags of theirs
// (gunicorn.Settings). Without --config (or GOWSGI_CONFIG),
// ./gunicorn.conf.py is read if it exists, as gunicorn does. The file's
// settings come last in precedence, after the command line,
// GUNICORN_CMD_ARGS and GOWSGI_*.

// gunicornConfTimeout bounds the run of a gunicorn config file.
const gunicornConfTimeout = time.Minute

// runGunicornConfig runs the gunicorn config at path (or python:MODULE)
// with python ("" as Config.Python's "") in the current directory.
func runGunicornConfig(python, path string) (*gunicorn.Config, error) {
	if !strings.HasPrefix(path, "python:") {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), gunicornConfTimeout)
	defer cancel()
	cfg, err := gunicorn.RunConfig(ctx, configPython(python), path)
	if err != nil {
		return nil, fmt.Errorf("--config %w", err)
	}
	return cfg, nil
}

// configPython is the interpreter that runs a gunicorn config file: the
// --python flag's, else the Container's default (Config.Python).
func configPython(python string) string {
	if python != "" {
		return python
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		return filepath.Join(venv, "bin", "python")
	}
	return "python3"
}

// applyGunicornConfig runs the gunicorn config file at path and sets the
// flags of fs that nothing set before from its settings. A setting gowsgi
// has no counterpart for is a warning in o.notes, as is a server hook
// gowsgi does not run (gunicorn.NotRun). byDefault says that no --config
// named it: it is ./gunicorn.conf.py. It returns the app, wsgi_app.
func applyGunicornConfig(fs *flag.FlagSet, o *serveOptions, path string, byDefault bool) (string, error) {
	cfg, err := runGunicornConfig(fs.Lookup("python").Value.String(), path)
	if err != nil {
		if _, kvErr := readConfigFile(path); kvErr != nil && !gunicorn.IsConfigName(path) {
			// Not gowsgi's format, and not Python either: say both.
			return "", fmt.Errorf("%v; nor is it a gunicorn config file: %v", kvErr, err)
		}
		return "", err
	}
	o.gunicornConfig = path
	msg := "read gunicorn config"
	if byDefault {
		msg = "read gunicorn config (gunicorn's default file, found in the current directory)"
	}
	o.notes = append(o.notes, note{slog.LevelInfo, msg, []any{"file", path}})
	set := setFlags(fs)

	var app string
	names := make([]string, 0, len(cfg.Settings))
	for name := range cfg.Settings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values, err := gunicorn.Values(cfg.Settings[name])
		if err != nil {
			return "", fmt.Errorf("--config %s: %s: %v", path, name, err)
		}
		if len(values) == 0 || (len(values) == 1 && (values[0] == "" || values[0] == "false")) {
			continue // None, False, "" or []: asks for nothing
		}
		s, known := gunicorn.LookupSetting(name)
		switch {
		case name == "wsgi_app":
			app = values[0]
			continue
		case !known:
			o.warnOnce("not a gunicorn setting: ignored", "setting", name)
			continue
		case !s.Sets():
			o.warnOnce("gunicorn setting with no counterpart in gowsgi: ignored", "setting", name)
			continue
		}
		if set[s.Flag] {
			continue
		}
		for _, v := range values {
			if err := fs.Set(s.Flag, v); err != nil {
				return "", fmt.Errorf("--config %s: %s = %s: %v", path, name, v, err)
			}
		}
	}
	for _, name := range cfg.Callables {
		h, ok := gunicorn.LookupHook(name)
		switch {
		case !ok:
			o.warnOnce("a callable that is not a gunicorn server hook: ignored", "name", name)
		case h.Runs == gunicorn.NotRun:
			o.warnOnce("gunicorn server hook not run (gowsgi has no such moment)", "hook", name)
		}
	}
	return app, nil
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
