package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gowsgi/gowsgi/internal/gunicorn"
)

// loadConfig fills in what the command line left unset of fs (o's flags),
// first to last in precedence: from GUNICORN_CMD_ARGS, the GOWSGI_*
// variables, then the --config file, gowsgi's or gunicorn's (without
// --config, ./gunicorn.conf.py if there is one, as gunicorn). It returns
// the app that one of them names, if any.
func loadConfig(fs *flag.FlagSet, o *serveOptions, lookup func(string) (string, bool)) (string, error) {
	cmdApp, err := applyGunicornArgs(fs, lookup)
	if err != nil {
		return "", err
	}
	config := fs.Lookup("config")
	byDefault := false
	if config.Value.String() == "" {
		if _, ok := lookup(envName("config")); !ok && fileExists(gunicorn.DefaultConfigFile) {
			config.Value.Set(gunicorn.DefaultConfigFile) // not fs.Set: unset, for applyConfig
			byDefault = true
		}
	}
	app, err := applyConfig(fs, lookup)
	if err != nil {
		return "", err
	}
	if app == "" {
		app = cmdApp
	}
	if path := config.Value.String(); gunicorn.IsConfigFile(path) {
		fileApp, err := applyGunicornConfig(fs, o, path, byDefault)
		if err != nil {
			return "", err
		}
		if app == "" {
			app = fileApp
		}
	}
	return app, gunicornDefaults(fs, o, lookup)
}

// gunicornDefaults applies the defaults gunicorn takes from the
// environment, for what nothing set: --bind 0.0.0.0:$PORT (unless systemd
// passed sockets) and --workers $WEB_CONCURRENCY, as Heroku-like platforms
// set them. It notes that --backlog, if set, is the listen queue now.
func gunicornDefaults(fs *flag.FlagSet, o *serveOptions, lookup func(string) (string, bool)) error {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	_, activated := lookup("LISTEN_FDS")
	if port, ok := lookup("PORT"); ok && port != "" && !set["bind"] && !set["b"] && !activated {
		if err := fs.Set("bind", "0.0.0.0:"+port); err != nil {
			return fmt.Errorf("$PORT: %v", err)
		}
		o.notes = append(o.notes, note{slog.LevelInfo, "binding to $PORT, as gunicorn does", []any{"bind", "0.0.0.0:" + port}})
	}
	if n, ok := lookup("WEB_CONCURRENCY"); ok && n != "" && !set["workers"] && !set["w"] {
		if err := fs.Set("workers", n); err != nil {
			return fmt.Errorf("$WEB_CONCURRENCY: %v", err)
		}
	}
	if set["backlog"] {
		o.notes = append(o.notes, note{slog.LevelInfo, "--backlog is the listen queue, as gunicorn's; the requests that wait for a free worker are --max-queued's",
			[]any{"backlog", o.listenBacklog, "max-queued", o.maxQueued}})
	}
	return nil
}

// applyGunicornArgs sets the flags in GUNICORN_CMD_ARGS that the command
// line left unset. Its words are split as a POSIX shell would (as
// gunicorn splits them, with shlex: gunicorn.SplitArgs). It returns the
// app it names, if any.
func applyGunicornArgs(fs *flag.FlagSet, lookup func(string) (string, bool)) (string, error) {
	line, ok := lookup(gunicorn.ArgsEnv)
	if !ok || strings.TrimSpace(line) == "" {
		return "", nil
	}
	args, err := gunicorn.SplitArgs(line)
	if err != nil {
		return "", fmt.Errorf("%s: %v", gunicorn.ArgsEnv, err)
	}
	set := setFlags(fs) // long names the command line set
	long := longNames()

	// Parse into a flag set that records what each flag got, so that the
	// values are then set in fs (in order, repeatable ones repeated) for
	// the flags the command line did not set.
	var got []setting
	rec := flag.NewFlagSet(gunicorn.ArgsEnv, flag.ContinueOnError)
	rec.SetOutput(io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		b, isBool := f.Value.(interface{ IsBoolFlag() bool })
		rec.Var(&recorder{name: cmp.Or(long[f.Name], f.Name), isBool: isBool && b.IsBoolFlag(), got: &got}, f.Name, "")
	})
	pos, err := parseInterspersed(rec, args)
	if err != nil {
		return "", fmt.Errorf("%s: %s", gunicorn.ArgsEnv, flagError(err))
	}
	if len(pos) > 1 {
		return "", fmt.Errorf("%s: one application, not %d: %q", gunicorn.ArgsEnv, len(pos), pos)
	}
	for _, s := range got {
		if set[s.key] {
			continue
		}
		if err := fs.Set(s.key, s.value); err != nil {
			return "", fmt.Errorf("%s: --%s: %v", gunicorn.ArgsEnv, s.key, err)
		}
	}
	if len(pos) == 1 {
		return pos[0], nil
	}
	return "", nil
}

// A recorder is a flag.Value that records the values it is given.
type recorder struct {
	name   string
	isBool bool
	got    *[]setting
}

func (r *recorder) String() string   { return "" }
func (r *recorder) IsBoolFlag() bool { return r.isBool }

func (r *recorder) Set(s string) error {
	*r.got = append(*r.got, setting{key: r.name, value: s})
	return nil
}
