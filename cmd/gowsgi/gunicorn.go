package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/gowsgi/gowsgi/internal/gunicorn"
)

// gunicornOptions are the serve options that came with gunicorn's flags
// and config file (gunicornconf.go): their meanings are gunicorn's.
type gunicornOptions struct {
	user, group           string // --user, --group: drop privileges after binding (privdrop.go)
	pidFile               string // --pid
	limitRequestLine      int    // 0: no limit
	limitRequestFields    int    // 0: no limit
	limitRequestFieldSize int    // 0: no limit
	errorLogFile          string // --error-logfile: "" or "-" is stderr
	listenBacklog         int    // --backlog: the listen queue
	workerClass           workerClassValue

	// accessLogFormat is --access-logformat, gunicorn's access_log_format
	// (edge.go).
	accessLogFormat string

	// gunicornConfig is the gunicorn config file read, if any; its
	// server hooks run from it (hooks.go, wsgi.Config.Hooks).
	gunicornConfig string

	// notes are what reading the configuration has to tell, logged once
	// the server log exists (logNotes).
	notes []note
}

// A note is a line for the server log from reading the configuration.
type note struct {
	level slog.Level
	msg   string
	args  []any
}

// addGunicornFlags adds the flags of gunicorn's that take their meanings
// from it to fs, writing into o.
func addGunicornFlags(fs *flag.FlagSet, o *serveOptions) {
	g := &o.gunicornOptions
	g.limitRequestLine = gunicorn.DefaultLimitRequestLine
	g.limitRequestFields = gunicorn.DefaultLimitRequestFields
	g.limitRequestFieldSize = gunicorn.DefaultLimitRequestFieldSize
	g.listenBacklog = gunicorn.DefaultBacklog
	g.workerClass.notes = &g.notes
	g.workerClass.iface = &o.iface
	addFlags(fs, []flagVar{
		{"user", (*stringValue)(&g.user), "after binding, run the server and its workers as `USER` (a name or a number), as gunicorn's --user; needs root (default: the user that started it)"},
		{"group", (*stringValue)(&g.group), "after binding, run as `GROUP` (a name or a number) (default: --user's primary group, else unchanged)"},
		{"pid", (*stringValue)(&g.pidFile), "write the server's process id to `FILE` once it listens; removed at exit (default: none)"},
		{"limit-request-line", (*intValue)(&g.limitRequestLine), "a request line (method, target, version) longer than `N` bytes gets 414; 0 means no limit (default 4094, gunicorn's)"},
		{"limit-request-fields", (*intValue)(&g.limitRequestFields), "a request with more than `N` header fields gets 431; 0 means no limit (default 100, gunicorn's)"},
		{"limit-request-field_size", (*intValue)(&g.limitRequestFieldSize), "a request with a header field (\"Name: value\") longer than `N` bytes gets 431; 0 means no limit (default 8190, gunicorn's)"},
		{"error-logfile", (*stringValue)(&g.errorLogFile), "write the server log to `FILE`, appended to, - for stderr; SIGHUP and SIGUSR1 reopen it (default stderr)"},
		{"backlog", (*intValue)(&g.listenBacklog), "the listen queue: at most `N` connections wait to be accepted, as gunicorn's --backlog (capped by net.core.somaxconn) (default 2048); the requests that wait for a worker are --max-queued"},
		{"worker-class", &g.workerClass, "gunicorn's worker `CLASS`: sync and gthread are what gowsgi's workers are (with --threads), uvicorn.workers.UvicornWorker is --interface asgi; others are refused or warned about"},
	})
	addIgnoredGunicornFlags(fs, g)
}

// workerClassValue is --worker-class, gunicorn's worker_class.
type workerClassValue struct {
	class string
	notes *[]note
	iface *interfaceValue // --interface, which uvicorn's worker sets to asgi
}

func (w *workerClassValue) String() string { return w.class }

func (w *workerClassValue) Set(s string) error {
	kind, err := gunicorn.WorkerClass(s)
	if err != nil {
		return err
	}
	switch kind {
	case gunicorn.ASGI:
		*w.iface = "asgi"
	case gunicorn.Unsupported:
		*w.notes = append(*w.notes, note{slog.LevelWarn,
			"worker class not supported: gowsgi's workers are sync, with --threads; raise --threads for many slow requests at once",
			[]any{"worker_class", s}})
	}
	w.class = s
	return nil
}

// warnOnce adds a warning note, unless an equal one is there already.
func (g *gunicornOptions) warnOnce(msg string, args ...any) {
	for _, n := range g.notes {
		if n.msg == msg && fmt.Sprintf("%v", n.args) == fmt.Sprintf("%v", args) {
			return
		}
	}
	g.notes = append(g.notes, note{slog.LevelWarn, msg, args})
}

// logNotes logs what reading the configuration noted.
func (g *gunicornOptions) logNotes(log *slog.Logger) {
	for _, n := range g.notes {
		log.Log(context.Background(), n.level, n.msg, n.args...)
	}
}

// addIgnoredGunicornFlags adds the flags of gunicorn's settings that
// gowsgi warns of (gunicorn.Warned), and their aliases, to fs, so that a
// gunicorn command line runs; and --daemon (gunicorn.Refused), which is
// refused.
func addIgnoredGunicornFlags(fs *flag.FlagSet, g *gunicornOptions) {
	for _, s := range gunicorn.Settings() {
		if s.Flag == "" {
			continue
		}
		switch s.Status {
		case gunicorn.Warned:
			for _, name := range []string{s.Flag, s.Alias} {
				if name != "" {
					fs.Var(&ignoredFlag{name: s.Flag, isBool: s.NoValue, g: g}, name, "gunicorn's; ignored, with a warning")
				}
			}
		case gunicorn.Refused:
			for _, name := range []string{s.Flag, s.Alias} {
				if name != "" {
					fs.Var(daemonFlag{}, name, "gunicorn's; refused")
				}
			}
		}
	}
}

// isIgnoredGunicornFlag reports whether name is one of
// addIgnoredGunicornFlags', which serve's usage lists apart.
func isIgnoredGunicornFlag(name string) bool {
	for _, s := range gunicorn.Settings() {
		if s.Flag != "" && (s.Status == gunicorn.Warned || s.Status == gunicorn.Refused) && (name == s.Flag || name == s.Alias) {
			return true
		}
	}
	return false
}

// ignoredFlagsUsage is serve's usage of addIgnoredGunicornFlags': the
// flags, then their aliases, in alphabetical order.
func ignoredFlagsUsage() string {
	var names, aliases []string
	for _, s := range gunicorn.Settings() {
		if s.Status != gunicorn.Warned || s.Flag == "" {
			continue
		}
		names = append(names, "--"+s.Flag)
		if s.Alias != "" {
			aliases = append(aliases, "-"+s.Alias)
		}
	}
	slices.Sort(names)
	slices.SortFunc(aliases, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	var b strings.Builder
	b.WriteString("\nAccepted so that gunicorn command lines run, with a warning that they do nothing here:\n ")
	col := 1
	for _, n := range append(names, aliases...) {
		if col+len(n) > 78 {
			b.WriteString("\n ")
			col = 1
		}
		b.WriteString(" " + n)
		col += 1 + len(n)
	}
	b.WriteString("\nRefused: -D, --daemon (gowsgi runs in the foreground: run it under systemd, a\ncontainer or a supervisor)\n")
	return b.String()
}

// ignoredFlag is a gunicorn flag without a counterpart: setting it notes a
// warning.
type ignoredFlag struct {
	name   string
	isBool bool
	g      *gunicornOptions
}

func (f *ignoredFlag) String() string   { return "" }
func (f *ignoredFlag) IsBoolFlag() bool { return f.isBool }

func (f *ignoredFlag) Set(string) error {
	f.g.warnOnce("gunicorn flag with no counterpart in gowsgi: ignored", "flag", "--"+f.name)
	return nil
}

// daemonFlag is gunicorn's --daemon, which gowsgi refuses rather than
// ignore: a script that expects the command to return would hang.
type daemonFlag struct{}

func (daemonFlag) String() string   { return "" }
func (daemonFlag) IsBoolFlag() bool { return true }

func (daemonFlag) Set(s string) error {
	if s == "false" {
		return nil
	}
	return errors.New("gowsgi does not daemonize: it runs in the foreground; run it under systemd, a container or a supervisor")
}
