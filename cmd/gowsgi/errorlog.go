package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/gowsgi/gowsgi/accesslog"
)

// serverLogOutput opens where the server log goes: stderr, or the file of
// --error-logfile (gunicorn's), appended to, which SIGHUP and SIGUSR1
// reopen as the access log's. The file is nil for stderr.
func serverLogOutput(o *serveOptions, stderr io.Writer) (io.Writer, *accesslog.File, error) {
	if o.errorLogFile == "" || o.errorLogFile == "-" {
		return stderr, nil, nil
	}
	f, err := accesslog.OpenFile(o.errorLogFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--error-logfile: %w", err)
	}
	return f, f, nil
}

// reopenServerLog reopens the --error-logfile f, if there is one, after
// log rotation moved it; if it cannot, the log goes on to the file it had.
func reopenServerLog(f *accesslog.File, log *slog.Logger) {
	if f == nil {
		return
	}
	if err := f.Reopen(); err != nil {
		log.Error("server log not reopened: it goes on to the file it had", "err", err)
		return
	}
	log.Info("server log reopened", "file", f.Path())
}
