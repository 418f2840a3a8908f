package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/gowsgi/gowsgi/accesslog"
)

// formatValue is the --access-log flag.
type formatValue accesslog.Format

func (f *formatValue) String() string { return accesslog.Format(*f).String() }

func (f *formatValue) Set(s string) error {
	v, err := accesslog.ParseFormat(s)
	*f = formatValue(v)
	return err
}

// logFormatValue is the --log-format flag: text or json.
type logFormatValue string

func (f *logFormatValue) String() string { return string(*f) }

func (f *logFormatValue) Set(s string) error {
	if s != "text" && s != "json" {
		return fmt.Errorf("%q is not text or json", s)
	}
	*f = logFormatValue(s)
	return nil
}

// newLogHandler returns the server log's handler, writing to w in o's
// format. Durations read as the flags take them: "30s" in text, and in
// JSON seconds (30, 0.25), as the JSON access log's duration, not slog's
// nanoseconds.
func newLogHandler(o *serveOptions, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: o.logLevel}
	if o.logFormat == "json" {
		opts.ReplaceAttr = durationSeconds
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// durationSeconds is a ReplaceAttr that writes a time.Duration as seconds.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}

// accessLogOutput opens where the access log goes: stdout, or the file of
// --access-logfile, appended to, which SIGHUP reopens (ops.reopenLogs). A
// file without --access-log means the combined format, as gunicorn logs to
// --access-logfile (- too). The file is nil for stdout.
func accessLogOutput(o *serveOptions, stdout io.Writer) (accesslog.Format, io.Writer, *accesslog.File, error) {
	format := accesslog.Format(o.accessLog)
	if format == accesslog.Off && o.accessLogFile != "" {
		format = accesslog.Combined // --access-logfile - too, as gunicorn's
	}
	if o.accessLogFile == "" || o.accessLogFile == "-" {
		return format, stdout, nil, nil
	}
	f, err := accesslog.OpenFile(o.accessLogFile)
	if err != nil {
		return format, nil, nil, fmt.Errorf("--access-logfile: %w", err)
	}
	return format, f, f, nil
}
