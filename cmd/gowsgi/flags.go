package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serveOptions are the serve command's flags and argument.
type serveOptions struct {
	app              string
	binds            []string
	workers          int
	threads          int
	goProcs          int
	cpuAffinity      int
	chdir            string
	python           string
	pythonPath       []string
	env              []string
	limitRequestBody int64
	bodyMemoryLimit  int64
	bodyMemoryBudget int64 // negative: Config's default
	bodySpoolLimit   int64 // negative: Config's default
	bodySpoolDir     string
	prefix           string
	gracefulTimeout  time.Duration
	shutdownDelay    time.Duration
	logLevel         slog.Level

	// Static files, logs, the admin server (static.go, accesslog.go, admin.go).
	static         staticValue
	staticDotfiles bool
	accessLog      formatValue
	accessLogFile  string
	logFormat      logFormatValue
	admin          string
	configFile     string

	// Worker lifecycle and overload (0 on the command line means no limit).
	timeout           time.Duration
	reloadTimeout     time.Duration // < 0: as timeout
	maxRequests       int
	maxRequestsJitter int
	maxWorkerMemory   int64
	maxQueued         int
	queueTimeout      time.Duration
	reload            bool
	preload           bool

	// HTTP.
	certFile, keyFile string
	h2c               bool
	headerTimeout     time.Duration
	bodyTimeout       time.Duration // negative: as headerTimeout
	bodyMinRate       int64
	keepAlive         time.Duration
	limitHeaderSize   int64
	forwardedAllowIPs replaceList
	umask             umaskValue
	asgiOptions       // --interface and the ASGI flags (interface.go)

	gunicornOptions // gunicorn.go
	edgeOptions     // --proxy-protocol, --ca-certs (edge.go)
}

// defaultBind is where serve listens without --bind, as gunicorn.
const defaultBind = "127.0.0.1:8000"

// shortNames maps a flag's long name to its one-letter alias, as gunicorn's.
func shortNames() map[string]string {
	return map[string]string{"bind": "b", "workers": "w", "env": "e", "config": "c", "timeout": "t", "umask": "m",
		"pid": "p", "user": "u", "group": "g", "worker-class": "k",
		"limit-request-field_size": "limit-request-field-size", "error-logfile": "log-file"}
}

// longNames maps the aliases of shortNames back to their flags' long
// names.
func longNames() map[string]string {
	long := make(map[string]string)
	for l, s := range shortNames() {
		long[s] = l
	}
	return long
}

// setFlags returns the long names of the flags that are set in fs, an
// alias counting as its flag.
func setFlags(fs *flag.FlagSet) map[string]bool {
	long := longNames()
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[cmp.Or(long[f.Name], f.Name)] = true })
	return set
}

// A flagVar is a flag to add to a flag set (addFlags).
type flagVar struct {
	name  string
	value flag.Value
	usage string
}

// addFlags adds vars to fs, each with its alias of shortNames, if any.
func addFlags(fs *flag.FlagSet, vars []flagVar) {
	short := shortNames()
	for _, v := range vars {
		fs.Var(v.value, v.name, v.usage)
		if s, ok := short[v.name]; ok {
			fs.Var(v.value, s, "alias of --"+v.name)
		}
	}
}

// defaultThreads is --threads' default. Four threads a worker served every
// app of the benchmark harness faster than one, with a lower median
// latency (hello, Flask, Django, apps burning 0-1000 µs: 1.07-1.24x the
// requests on a quiet machine, 1.2-1.8x on a busy one; bench/RESULTS.md,
// issue 13): a thread has its next request in hand when another finishes,
// instead of the worker waiting for Go. Flask's and Django's p99 stayed
// put; a hello-world app's grew (5 to 35 ms). Flask and Django are served
// by threads in their own development servers; an app that is not
// thread-safe needs --threads 1, as under gunicorn's gthread worker.
const defaultThreads = 4

// newServeFlags returns the serve command's flag set, writing into o.
// Each flag has a long name (--bind) and maybe a short one (-b); the flag
// package accepts one or two dashes for either.
func newServeFlags(o *serveOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o.threads = defaultThreads
	o.gracefulTimeout = 30 * time.Second
	o.timeout = 30 * time.Second
	o.reloadTimeout = -1
	o.maxQueued = 1024
	o.queueTimeout = 30 * time.Second
	o.headerTimeout = 30 * time.Second
	o.bodyTimeout = -1
	o.bodyMemoryLimit = 1 << 20
	o.limitRequestBody = 1 << 30
	o.bodyMemoryBudget = -1
	o.bodySpoolLimit = -1
	o.keepAlive = 75 * time.Second
	o.limitHeaderSize = 64 << 10
	o.forwardedAllowIPs = replaceList{list: []string{"127.0.0.1", "::1"}}
	addFlags(fs, []flagVar{
		{"bind", (*listValue)(&o.binds), "listen on `ADDRESS`: HOST:PORT, :PORT, [IPv6]:PORT or unix:PATH; repeatable (default " + defaultBind + ")"},
		{"workers", (*intValue)(&o.workers), "`N` worker processes (default: the number of CPUs, " + strconv.Itoa(runtime.NumCPU()) + " here)"},
		{"threads", (*intValue)(&o.threads), "`N` threads in each worker; 1 for an app that is not thread-safe (default " + strconv.Itoa(defaultThreads) + ")"},
		{"cpu-affinity", (*intValue)(&o.cpuAffinity), "pin each worker to `N` CPUs, in turn (Linux; uWSGI's flag): faster for an app that spends long in Python on a machine the workers fill, slower for one that returns at once (default 0: the kernel places them)"},
		{"go-procs", (*intValue)(&o.goProcs), "run the server's Go code on `N` CPUs at once (GOMAXPROCS), leaving the others to the workers (default: $GOMAXPROCS if set, else half the CPUs, at least 1)"},
		{"chdir", (*stringValue)(&o.chdir), "run the workers in `DIR`, which is also first on sys.path (default: the current directory)"},
		{"python", pythonFlag(&o.python), pythonUsage},
		{"pythonpath", (*listValue)(&o.pythonPath), "comma-separated `DIRS` put first on sys.path; repeatable"},
		{"env", (*envValue)(&o.env), "set `KEY=VALUE` in the workers' environment; repeatable"},
		{"limit-request-body", (*limitValue)(&o.limitRequestBody), "largest request body in `BYTES` (60M, 1G: powers of 1024), larger gets 413; 0 (or -1) means no limit (default 1G)"},
		{"body-memory-limit", (*bytesValue)(&o.bodyMemoryLimit), "hold request bodies up to `BYTES` (64K, 1M) in memory, spool larger ones to a file in $TMPDIR; 0 spools every body (default 1M)"},
		{"body-memory-budget", (*bytesValue)(&o.bodyMemoryBudget), "the request bodies held in memory take at most `BYTES` (64M, 1G) together, until their worker is done with them; past it, bodies are spooled to $TMPDIR however small; 0 means no limit (default 64M, or --body-memory-limit if larger)"},
		{"body-spool-limit", (*bytesValue)(&o.bodySpoolLimit), "the request bodies spooled to disk take at most `BYTES` (10G) together, until their worker is done with them; past it, a request that needs more gets 503 with Retry-After; 0 means no limit (default 4G, or --limit-request-body if larger)"},
		{"body-spool-dir", (*stringValue)(&o.bodySpoolDir), "spool large request bodies to files in `DIR` (default: $TMPDIR, else /tmp)"},
		{"prefix", (*stringValue)(&o.prefix), "mount the app under `PATH`, which becomes SCRIPT_NAME (default: the root)"},
		{"graceful-timeout", (*secondsValue)(&o.gracefulTimeout), "on SIGTERM, wait up to `SECONDS` (or a duration, 1m30s) for requests in flight (default 30)"},
		{"shutdown-delay", (*secondsValue)(&o.shutdownDelay), "on SIGTERM, first serve on for `DURATION` (seconds, or 1m30s) with /readyz failing, so that load balancers stop sending requests before the listeners close; --graceful-timeout counts from its end (default 0)"},
		{"log-level", (*levelValue)(&o.logLevel), "log `LEVEL`: debug, info, warning, error (default info)"},
		{"static", &o.static, "serve the files of `URL=DIR` (as /static=./staticfiles; DIR relative to the current directory) from Go, never Python; repeatable; hidden files and directories (.env, .git/) are not found"},
		{"static-dotfiles", (*boolValue)(&o.staticDotfiles), "let --static serve files and directories whose names start with a dot"},
		{"access-log", &o.accessLog, "access log `FORMAT`: off, common, combined or json, with request ID, worker and duration (default off; combined with --access-logfile)"},
		{"access-logfile", (*stringValue)(&o.accessLogFile), "write the access log to `FILE`, appended to, - for stdout; SIGHUP reopens it, after logrotate moved it (default stdout)"},
		{"log-format", &o.logFormat, "server log `FORMAT`: text or json (default text)"},
		{"admin", (*stringValue)(&o.admin), "serve /metrics (Prometheus), /healthz, /readyz and a status page at `ADDRESS` (as --bind's; keep it private) (default: none)"},
		{"config", (*stringValue)(&o.configFile), "read settings from `FILE`: a gunicorn config (FILE.py or python:MODULE), run with --python, or key = value lines, the keys these flags' long names (see below) (default: ./gunicorn.conf.py if there is one)"},
		{"timeout", (*secondsValue)(&o.timeout), "a request whose app sends nothing for `SECONDS` (or a duration) gets 504; its worker's Python stack is logged, the worker killed and replaced; 0 means no limit (default 30)"},
		{"reload-timeout", (*secondsValue)(&o.reloadTimeout), "a reload whose new workers are not all ready (the app imported) within `SECONDS` (or a duration) is given up: they are killed and the old ones serve on; 0 means no limit (default: --timeout's)"},
		{"max-requests", (*intValue)(&o.maxRequests), "hand a worker at most `N` requests, then replace it (its replacement starts at 3/4 of N; if it fails to start, the worker serves on past N until one does); 0 means never (default 0)"},
		{"max-requests-jitter", (*intValue)(&o.maxRequestsJitter), "add a random 0 to `N` to each worker's --max-requests, so that they do not all recycle at once (default 0)"},
		{"max-worker-memory", (*bytesValue)(&o.maxWorkerMemory), "replace a worker whose resident memory exceeds `BYTES` (512M, 1G: powers of 1024), checked each second; 0 means no limit (default 0)"},
		{"max-queued", (*intValue)(&o.maxQueued), "at most `N` requests wait for a free worker; more get 503 with Retry-After at once; 0 means no limit (this was --backlog, which is now gunicorn's listen queue) (default 1024)"},
		{"queue-timeout", (*secondsValue)(&o.queueTimeout), "a request that waited `SECONDS` (or a duration) for a free worker gets 503 with Retry-After; 0 means no limit (default 30)"},
		{"preload", (*boolValue)(&o.preload), "import the app once in a template process and fork the workers from it: less memory, workers start in milliseconds"},
		{"reload", (*boolValue)(&o.reload), "development: reload the app when a *.py file under --chdir changes (polled each second)"},
		{"certfile", (*stringValue)(&o.certFile), "serve HTTPS (and HTTP/2) with the PEM certificate chain in `FILE`; needs --keyfile; both are read again on SIGHUP"},
		{"keyfile", (*stringValue)(&o.keyFile), "the PEM private key `FILE` of --certfile"},
		{"h2c", (*boolValue)(&o.h2c), "also accept HTTP/2 without TLS (prior knowledge), as from a proxy that speaks h2c"},
		{"header-timeout", (*secondsValue)(&o.headerTimeout), "a client must send a request's headers within `SECONDS` (or a duration); 0 means no limit (default 30)"},
		{"body-timeout", (*secondsValue)(&o.bodyTimeout), "close the connection of a client that sends nothing of its request body for `SECONDS` (or a duration), as nginx's client_body_timeout; no worker is taken meanwhile; 0 means no limit (default: --header-timeout's)"},
		{"body-min-rate", (*bytesValue)(&o.bodyMinRate), "with --body-timeout, also close the connection of a client whose request body arrives slower than `BYTES` (500, 1K) a second on average, after a grace of --body-timeout, as Apache's mod_reqtimeout MinRate: a byte sent before each timeout no longer holds a connection for ever; 0 means no minimum (default 0)"},
		{"keep-alive", (*secondsValue)(&o.keepAlive), "close a keep-alive connection idle for `SECONDS` (or a duration); 0 turns keep-alive off (default 75)"},
		{"limit-request-fields-size", (*bytesValue)(&o.limitHeaderSize), "largest request head (request line, header fields, blank line; as \"Name: value\" lines) in `BYTES` (64K, 1M); larger gets 431 and a close (default 64K)"},
		{"umask", &o.umask, "a unix socket of --bind gets the mode 0777 less `MASK` (octal, as 007 or 0o077), as gunicorn's --umask (default 0: any local user may connect, the socket's directory guards it)"},
		{"forwarded-allow-ips", &o.forwardedAllowIPs, "comma-separated `IPS` and CIDRs of proxies whose X-Forwarded-For/-Proto/-Host/-Port and Forwarded headers are trusted; * trusts all, \"\" none; unix socket peers are always trusted (default 127.0.0.1,::1)"},
	})
	addGunicornFlags(fs, o)
	addEdgeFlags(fs, o)
	fs.Usage = func() {} // serve prints usage itself, to stdout for -h
	return fs
}

const serveUsage = `Usage: gowsgi serve [flags] MODULE:CALLABLE

Serve the WSGI or ASGI application MODULE:CALLABLE (gunicorn's form: mysite.wsgi:application,
app:create_app(); --interface) from a pool of Python worker processes. Flags may come
before or after it.

Signals:
  SIGTERM, SIGINT   stop gracefully: /readyz of --admin fails at once, the server
                    serves on for --shutdown-delay, then finishes the requests in
                    flight within --graceful-timeout and exits; a second signal
                    stops at once
  SIGQUIT           stop at once: close the listeners and connections, kill the
                    workers, remove the socket and runtime files, exit 0
  SIGHUP            reopen --access-logfile and --error-logfile, reload the TLS
                    certificate and the app
  SIGUSR1           reopen --access-logfile and --error-logfile only
  SIGTTIN, SIGTTOU  add a worker, remove one

Every flag may also come from the environment, GOWSGI_ and its name in capitals
(--max-requests: GOWSGI_MAX_REQUESTS; one value per line for repeatable flags), or
from the --config file (or GOWSGI_CONFIG), with lines like "max-requests = 1000"
(# starts a comment line; repeat a key to repeat a flag; "app = MODULE:CALLABLE").
A gunicorn config file (FILE.py, python:MODULE; ./gunicorn.conf.py without
--config) is run with --python and its settings taken; GUNICORN_CMD_ARGS holds
flags, as gunicorn's. The command line wins over GUNICORN_CMD_ARGS, which wins
over the environment, which wins over the file.

Flags:
`

const checkUsage = `Usage: gowsgi check [flags] MODULE:CALLABLE

Import the WSGI application MODULE:CALLABLE in one worker process, as serve would
with the same flags, environment (GOWSGI_*) and --config file, report which Python
ran it, and exit: 0 if it loaded, 4 with the Python traceback on stderr if it did
not. It takes every flag of serve, so that a command line or config file can be
checked as is; those that change the import are:

`

// checkFlags are the flags that change how check imports the app.
var checkFlags = []string{"chdir", "python", "pythonpath", "env", "config", "log-level", "log-format"}

// printUsage writes the usage of cmd, serve or check, to w.
func printUsage(w io.Writer, cmd string, fs *flag.FlagSet) {
	if cmd == "check" {
		fmt.Fprint(w, checkUsage)
		printFlags(w, fs, func(name string) bool { return slices.Contains(checkFlags, name) })
		return
	}
	printServeUsage(w, fs)
}

// printServeUsage writes the serve command's usage to w, a flag and its
// alias on one line.
func printServeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, serveUsage)
	printFlags(w, fs, func(name string) bool { return !isIgnoredGunicornFlag(name) })
	fmt.Fprint(w, ignoredFlagsUsage())
}

// printFlags writes the flags of fs that show allows to w, a flag and its
// alias on one line.
func printFlags(w io.Writer, fs *flag.FlagSet, show func(name string) bool) {
	short := shortNames()
	aliases := make(map[string]bool)
	for _, s := range short {
		aliases[s] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if aliases[f.Name] || !show(f.Name) {
			return
		}
		kind, usage := flag.UnquoteUsage(f)
		names := "    --" + f.Name
		if s, ok := short[f.Name]; ok {
			names = "-" + s + ", --" + f.Name
			if len(s) > 1 {
				names = "    --" + f.Name + ", --" + s
			}
		}
		if kind != "" {
			names += " " + kind
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", names, usage)
	})
}

// flagNameInError finds the flag named in the flag package's errors:
// "flag provided but not defined: -foo", "invalid value "x" for flag -foo:
// ...", "invalid boolean value "x" for -foo: ...", "flag needs an
// argument: -foo".
var flagNameInError = regexp.MustCompile(`(defined: |for flag |for |argument: )-([^\s:=]+)`)

// flagError rewrites an error of the flag package to name the flag as
// written in the usage, --name or -n: "unknown flag --foo".
func flagError(err error) string {
	msg := err.Error()
	m := flagNameInError.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	name := msg[m[4]:m[5]]
	dashed := "--" + name
	if len(name) == 1 {
		dashed = "-" + name
	}
	if strings.HasPrefix(msg, "flag provided but not defined: ") {
		return "unknown flag " + dashed
	}
	return msg[:m[4]-1] + dashed + msg[m[5]:]
}

// parseInterspersed parses args with fs, allowing flags after positional
// arguments (as gunicorn does), and returns the positional ones. Everything
// after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// listValue is a repeatable flag whose values may also be comma-separated.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// envValue is a repeatable KEY=VALUE flag.
type envValue []string

func (e *envValue) String() string { return strings.Join(*e, " ") }

func (e *envValue) Set(s string) error {
	if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	*e = append(*e, s)
	return nil
}

type stringValue string

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

// intValue is a count that may not be negative.
type intValue int

func (n *intValue) String() string { return strconv.Itoa(int(*n)) }

func (n *intValue) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a whole number 0 or more", s)
	}
	*n = intValue(v)
	return nil
}

// secondsValue is a duration given in seconds, as gunicorn's timeouts, or
// in Go's form (1m30s).
type secondsValue time.Duration

func (d *secondsValue) String() string { return time.Duration(*d).String() }

func (d *secondsValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		v, err = time.Duration(f*float64(time.Second)), nil
	}
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a number of seconds or a duration", s)
	}
	*d = secondsValue(v)
	return nil
}

// levelValue is a log level, with gunicorn's names too.
type levelValue slog.Level

func (l *levelValue) String() string { return slog.Level(*l).String() }

func (l *levelValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "debug":
		*l = levelValue(slog.LevelDebug)
	case "info":
		*l = levelValue(slog.LevelInfo)
	case "warn", "warning":
		*l = levelValue(slog.LevelWarn)
	case "error", "critical":
		*l = levelValue(slog.LevelError)
	default:
		return fmt.Errorf("%q is not one of debug, info, warning, error", s)
	}
	return nil
}
