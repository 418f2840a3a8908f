package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

	// gunicornConfig is the gunicorn config file read, if any, and
	// gunicornHooks the names of its server hooks (the callables of
	// gunicornHookNames it defines), for the hook runner.
	gunicornConfig string
	gunicornHooks  []string

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

// Gunicorn's defaults for its request limits, and for the listen queue.
const (
	defaultLimitRequestLine      = 4094
	defaultLimitRequestFields    = 100
	defaultLimitRequestFieldSize = 8190
	defaultListenBacklog         = 2048
)

// addGunicornFlags adds the flags of gunicorn's that take their meanings
// from it to fs, writing into o.
func addGunicornFlags(fs *flag.FlagSet, o *serveOptions) {
	g := &o.gunicornOptions
	g.limitRequestLine = defaultLimitRequestLine
	g.limitRequestFields = defaultLimitRequestFields
	g.limitRequestFieldSize = defaultLimitRequestFieldSize
	g.listenBacklog = defaultListenBacklog
	g.workerClass.notes = &g.notes
	vars := []struct {
		name  string
		value flag.Value
		usage string
	}{
		{"user", (*stringValue)(&g.user), "after binding, run the server and its workers as `USER` (a name or a number), as gunicorn's --user; needs root (default: the user that started it)"},
		{"group", (*stringValue)(&g.group), "after binding, run as `GROUP` (a name or a number) (default: --user's primary group, else unchanged)"},
		{"pid", (*stringValue)(&g.pidFile), "write the server's process id to `FILE` once it listens; removed at exit (default: none)"},
		{"limit-request-line", (*intValue)(&g.limitRequestLine), "a request line (method, target, version) longer than `N` bytes gets 414; 0 means no limit (default 4094, gunicorn's)"},
		{"limit-request-fields", (*intValue)(&g.limitRequestFields), "a request with more than `N` header fields gets 431; 0 means no limit (default 100, gunicorn's)"},
		{"limit-request-field_size", (*intValue)(&g.limitRequestFieldSize), "a request with a header field (\"Name: value\") longer than `N` bytes gets 431; 0 means no limit (default 8190, gunicorn's)"},
		{"error-logfile", (*stringValue)(&g.errorLogFile), "write the server log to `FILE`, appended to, - for stderr; SIGHUP and SIGUSR1 reopen it (default stderr)"},
		{"backlog", (*intValue)(&g.listenBacklog), "the listen queue: at most `N` connections wait to be accepted, as gunicorn's --backlog (capped by net.core.somaxconn) (default 2048); the requests that wait for a worker are --max-queued"},
		{"worker-class", &g.workerClass, "gunicorn's worker `CLASS`: sync and gthread are what gowsgi's workers are (with --threads); others are refused or warned about"},
	}
	short := shortNames()
	for _, v := range vars {
		fs.Var(v.value, v.name, v.usage)
		if s, ok := short[v.name]; ok {
			fs.Var(v.value, s, "alias of --"+v.name)
		}
	}
	addIgnoredGunicornFlags(fs, g)
}

// workerClassValue is --worker-class, gunicorn's worker_class.
type workerClassValue struct {
	class string
	notes *[]note
}

func (w *workerClassValue) String() string { return w.class }

func (w *workerClassValue) Set(s string) error {
	switch strings.TrimPrefix(strings.TrimPrefix(s, "gunicorn.workers."), "egg:gunicorn#") {
	case "sync", "gthread", "sync.SyncWorker", "gthread.ThreadWorker":
		// gowsgi's workers are both: one request at a time per thread.
	case "uvicorn.workers.UvicornWorker", "uvicorn_worker.UvicornWorker":
		return fmt.Errorf("%q serves ASGI apps; gowsgi serves WSGI apps only, for now (once ASGI lands, it will be --interface asgi)", s)
	case "gevent", "eventlet", "tornado", "ggevent.GeventWorker", "geventlet.EventletWorker", "gtornado.TornadoWorker":
		*w.notes = append(*w.notes, note{slog.LevelWarn,
			"worker class not supported: gowsgi's workers are sync, with --threads; raise --threads for many slow requests at once",
			[]any{"worker_class", s}})
	default:
		return fmt.Errorf("%q is not a worker class gowsgi knows: sync or gthread (--threads)", s)
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

// ignoredGunicornFlags are gunicorn flags that gowsgi accepts so that a
// gunicorn command line runs, and warns of: they have no counterpart. The
// value says whether the flag takes a value.
func ignoredGunicornFlags() map[string]bool {
	return map[string]bool{
		"name": true, "worker-connections": true, "worker-tmp-dir": true, "statsd-host": true,
		"statsd-prefix": true, "dogstatsd-tags": true, "log-config": true, "log-syslog-to": true,
		"log-syslog-prefix": true, "log-syslog-facility": true, "reload-engine": true,
		"reload-extra-file": true, "ssl-version": true, "ciphers": true,
		"capture-output": false, "enable-stdio-inheritance": false, "initgroups": false,
		"reuse-port": false, "no-sendfile": false, "log-syslog": false, "spew": false,
		"disable-redirect-access-to-syslog": false, "suppress-ragged-eofs": false,
		"do-handshake-on-connect": false, "strip-header-spaces": false,
	}
}

// addIgnoredGunicornFlags adds ignoredGunicornFlags to fs, and gunicorn's
// --daemon, which is refused.
func addIgnoredGunicornFlags(fs *flag.FlagSet, g *gunicornOptions) {
	for name, takesValue := range ignoredGunicornFlags() {
		fs.Var(&ignoredFlag{name: name, isBool: !takesValue, g: g}, name, "gunicorn's; ignored, with a warning")
	}
	fs.Var(daemonFlag{}, "daemon", "gunicorn's; refused")
	fs.Var(daemonFlag{}, "D", "gunicorn's; refused")
	fs.Var(&ignoredFlag{name: "name", g: g}, "n", "gunicorn's; ignored, with a warning")
	fs.Var(&ignoredFlag{name: "enable-stdio-inheritance", isBool: true, g: g}, "R", "gunicorn's; ignored, with a warning")
}

// isIgnoredGunicornFlag reports whether name is one of
// addIgnoredGunicornFlags', which serve's usage lists apart.
func isIgnoredGunicornFlag(name string) bool {
	_, ok := ignoredGunicornFlags()[name]
	return ok || name == "daemon" || name == "D" || name == "n" || name == "R"
}

// ignoredFlagsUsage is serve's usage of addIgnoredGunicornFlags'.
func ignoredFlagsUsage() string {
	var names []string
	for name := range ignoredGunicornFlags() {
		names = append(names, "--"+name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("\nAccepted so that gunicorn command lines run, with a warning that they do nothing here:\n ")
	col := 1
	for _, n := range append(names, "-n", "-R") {
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
