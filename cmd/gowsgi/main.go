// Gowsgi serves a Python WSGI application (PEP 3333) over HTTP from a
// supervised pool of Python worker processes, in place of gunicorn.
//
// Usage:
//
//	gowsgi serve [flags] MODULE:CALLABLE
//	gowsgi check [flags] MODULE:CALLABLE
//	gowsgi version
//	gowsgi help [serve|check]
//
// The serve command's flags take gunicorn's names where the concept is the
// same:
//
//	gowsgi serve --bind 127.0.0.1:8000 --workers 4 mysite.wsgi:application
//	gowsgi serve -b unix:/run/app.sock --chdir /srv/app --python .venv/bin/python app:create_app()
//
// SIGTERM or SIGINT stops it gracefully: /readyz turns 503 at once, it
// serves on for --shutdown-delay (0 by default) so that load balancers
// notice, then stops accepting connections, finishes the requests in flight
// (within --graceful-timeout), and stops the workers; a second signal stops
// it at once. SIGHUP reloads the app with
// no failed request (new workers import it, take over once ready, and the
// old ones drain; if the new code does not import, the old workers serve
// on) and the TLS certificate, and first reopens the --access-logfile,
// which log rotation moved aside; SIGUSR1 only reopens it; SIGTTIN adds a
// worker and SIGTTOU removes one. SIGQUIT stops at once, as gunicorn's
// quick shutdown: connections closed, workers killed, files removed.
//
// Exit status: 0 after a graceful stop; 1 if serving failed; 2 for a bad
// command line; 4 if the application failed to import (as gunicorn's
// APP_LOAD_ERROR), after printing the Python traceback.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

// Exit statuses.
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitLoadError = 4 // pyruntime.LoadErrorStatus, gunicorn's APP_LOAD_ERROR
)

const usage = `gowsgi serves a Python WSGI application from a pool of Python worker processes.

Usage:

	gowsgi serve [flags] MODULE:CALLABLE   serve the app (see "gowsgi help serve")
	gowsgi check [flags] MODULE:CALLABLE   import the app in one worker, report, and exit (4 if it fails)
	gowsgi version                         print the version
	gowsgi help [serve|check]              print this help, or a command's

MODULE:CALLABLE is gunicorn's form, e.g. mysite.wsgi:application or app:create_app().
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(rest, stdout, stderr)
	case "check":
		return check(rest, stdout, stderr)
	case "version", "-v", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return exitOK
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] == "serve" {
			return serve([]string{"-h"}, stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "check" {
			return check([]string{"-h"}, stdout, stderr)
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "gowsgi help: unknown command %q\n\n%s", rest[0], usage)
			return exitUsage
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "gowsgi: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// releaseVersion is the version a release build is stamped with
// (scripts/wheel: -ldflags "-X main.releaseVersion=0.1.0"), the wheel's.
// It is a variable only for the linker to set.
var releaseVersion string

// version describes this build: the release or module version, or the VCS
// revision of a development build, and the Go toolchain and platform.
func version() string {
	v := "(devel)"
	if releaseVersion != "" {
		v = releaseVersion
	} else if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if v == "(devel)" && rev != "" {
			v += " " + rev[:min(len(rev), 12)] + dirty
		}
	}
	return fmt.Sprintf("gowsgi %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
