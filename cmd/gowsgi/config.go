package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gowsgi/gowsgi/internal/gunicorn"
)

// Configuration comes from, first to last in precedence: the command line,
// GOWSGI_* environment variables, the --config file, the defaults.
//
// Every serve flag has a variable: --max-requests is GOWSGI_MAX_REQUESTS.
// A variable of a repeatable flag may hold several values, one per line.
// GOWSGI_APP gives MODULE:CALLABLE when the command line does not.
//
// The --config file (or GOWSGI_CONFIG) has a setting per line, its key the
// flag's long name and its value in the flag's syntax; a repeatable flag
// repeats its key; "app" gives MODULE:CALLABLE. Blank lines and lines
// starting with # are ignored; a value may be double-quoted (Go syntax) to
// keep spaces at its ends:
//
//	# gowsgi.toml
//	app = mysite.wsgi:application
//	bind = 0.0.0.0:8000
//	workers = 4
//	max-requests = 1000
//	static = /static=/srv/mysite/staticfiles
//	env = DJANGO_SETTINGS_MODULE=mysite.settings
//	env = GREETING=hello there

// envPrefix starts the environment variables of the flags.
const envPrefix = "GOWSGI_"

// envName is the environment variable of the flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyConfig sets the flags of fs that the command line left unset from
// the environment (lookup), then from the file that --config or
// GOWSGI_CONFIG names. It returns the app that the environment or the
// file names, if any.
func applyConfig(fs *flag.FlagSet, lookup func(string) (string, bool)) (string, error) {
	aliases := longNames()
	set := setFlags(fs) // long names set already

	app, _ := lookup(envPrefix + "APP")
	fromEnv := make(map[string]bool)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if _, alias := aliases[f.Name]; alias || set[f.Name] {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		fromEnv[f.Name] = true
		for _, line := range strings.Split(v, "\n") {
			if err := fs.Set(f.Name, line); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", envName(f.Name), err))
			}
		}
	})
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}

	path := fs.Lookup("config").Value.String()
	if path == "" || gunicorn.IsConfigFile(path) {
		return app, nil // gunicornconf.go reads it
	}
	settings, err := readConfigFile(path)
	if err != nil {
		return "", err
	}
	for _, s := range settings {
		switch {
		case s.key == "app":
			if app == "" {
				app = s.value
			}
			continue
		case s.key == "config" || aliases[s.key] != "" || fs.Lookup(s.key) == nil:
			return "", fmt.Errorf("%s:%d: unknown key %q: want a flag's long name, or app", path, s.line, s.key)
		case set[s.key] || fromEnv[s.key]:
			continue
		}
		if err := fs.Set(s.key, s.value); err != nil {
			return "", fmt.Errorf("%s:%d: %s: %v", path, s.line, s.key, err)
		}
	}
	return app, nil
}

// A setting is a key = value line of a config file.
type setting struct {
	line       int
	key, value string
}

// readConfigFile reads the settings of a config file.
func readConfigFile(path string) ([]setting, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	var settings []setting
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: %q is not key = value", path, n, line)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			if v, err = strconv.Unquote(v); err != nil {
				return nil, fmt.Errorf("%s:%d: bad quoted value %s", path, n, line[strings.IndexByte(line, '=')+1:])
			}
		}
		settings = append(settings, setting{n, k, v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return settings, nil
}
