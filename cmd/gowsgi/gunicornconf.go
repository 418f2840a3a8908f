package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A gunicorn config file is Python: gowsgi runs it with the app's
// interpreter (--python) and takes what it defines as gunicorn would.
// --config names one, or gowsgi's own key = value file:
//
//   - FILE.py, or python:MODULE (imported, as gunicorn's), is gunicorn's;
//   - any other file is gowsgi's, unless it has a line that gowsgi's
//     format cannot have and Python can: one that is not key = value (an
//     import), a key with "_" (gowsgi's keys have "-"), a value that is a
//     Python list, tuple, dict or 'string'.
//
// Without --config (or GOWSGI_CONFIG), ./gunicorn.conf.py is read if it
// exists, as gunicorn does. The file's settings come last in precedence,
// after the command line, GUNICORN_CMD_ARGS and GOWSGI_*.

// defaultGunicornConfig is the file gunicorn reads without --config.
const defaultGunicornConfig = "gunicorn.conf.py"

// gunicornConfTimeout bounds the run of a gunicorn config file.
const gunicornConfTimeout = time.Minute

// gunicornConfScript runs a gunicorn config file and prints its settings
// as JSON.
//
//go:embed gunicornconf.py
var gunicornConfScript string

// isGunicornConfig reports whether the --config file at path is gunicorn's
// (see above).
func isGunicornConfig(path string) bool {
	if path == "" {
		return false
	}
	if gunicornByName(path) {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false // readConfigFile says why
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, "_ .([") || strings.ContainsAny(v[:min(len(v), 1)], "[({'") {
			return true
		}
	}
	return false
}

// gunicornByName reports whether path is a gunicorn config by its name:
// FILE.py or python:MODULE.
func gunicornByName(path string) bool {
	return strings.HasPrefix(path, "python:") || strings.HasSuffix(path, ".py")
}

// gunicornConfig is what the script prints: the settings, and the names
// of the callables.
type gunicornConfig struct {
	Settings  map[string]json.RawMessage `json:"settings"`
	Callables []string                   `json:"callables"`
}

// runGunicornConfig runs the gunicorn config at path (or python:MODULE)
// with python ("" as Config.Python's "") in the current directory.
func runGunicornConfig(python, path string) (*gunicornConfig, error) {
	if !strings.HasPrefix(path, "python:") {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
	}
	python = configPython(python)
	ctx, cancel := context.WithTimeout(context.Background(), gunicornConfTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", gunicornConfScript, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimRight(stderr.String(), "\n")
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("--config %s: the gunicorn config file failed with %s:\n%s", path, python, msg)
	}
	cfg := new(gunicornConfig)
	if err := json.Unmarshal(stdout.Bytes(), cfg); err != nil {
		return nil, fmt.Errorf("--config %s: reading what %s said of it: %v", path, python, err)
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
// has no counterpart for is a warning in o.notes; a callable that is a
// server hook goes to o.gunicornHooks. byDefault says that no --config
// named it: it is ./gunicorn.conf.py. It returns the app, wsgi_app.
func applyGunicornConfig(fs *flag.FlagSet, o *serveOptions, path string, byDefault bool) (string, error) {
	cfg, err := runGunicornConfig(fs.Lookup("python").Value.String(), path)
	if err != nil {
		if _, kvErr := readConfigFile(path); kvErr != nil && !gunicornByName(path) {
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
	long := make(map[string]string)
	for l, s := range shortNames() {
		long[s] = l
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[firstOf(long[f.Name], f.Name)] = true })

	var app string
	names := make([]string, 0, len(cfg.Settings))
	for name := range cfg.Settings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values, err := settingValues(cfg.Settings[name])
		if err != nil {
			return "", fmt.Errorf("--config %s: %s: %v", path, name, err)
		}
		if len(values) == 0 || (len(values) == 1 && (values[0] == "" || values[0] == "false")) {
			continue // None, False, "" or []: asks for nothing
		}
		flagName := gunicornFlag(name)
		switch {
		case name == "wsgi_app":
			app = values[0]
			continue
		case flagName == "" && slices.Contains(gunicornSettingNames(), name):
			o.warnOnce("gunicorn setting with no counterpart in gowsgi: ignored", "setting", name)
			continue
		case flagName == "":
			o.warnOnce("not a gunicorn setting: ignored", "setting", name)
			continue
		}
		if set[flagName] {
			continue
		}
		for _, v := range values {
			if err := fs.Set(flagName, v); err != nil {
				return "", fmt.Errorf("--config %s: %s = %s: %v", path, name, v, err)
			}
		}
	}
	for _, name := range cfg.Callables {
		if !slices.Contains(gunicornHookNames(), name) {
			o.warnOnce("a callable that is not a gunicorn server hook: ignored", "name", name)
			continue
		}
		o.gunicornHooks = append(o.gunicornHooks, name)
	}
	warnHooks(o)
	return app, nil
}

// warnHooks warns of the server hooks of the gunicorn config that gowsgi
// does not run (the others run: cmd/gowsgi/hooks.go, package hooks and the
// worker runtime). pre_fork and pre_exec have no moment here: workers are
// started by the Go server or forked by the zygote, never re-exec'd;
// worker_int's SIGINT and ssl_context's TLS are Go's.
func warnHooks(o *serveOptions) {
	for _, h := range o.gunicornHooks {
		switch h {
		case "pre_fork", "pre_exec", "worker_int", "ssl_context":
			o.warnOnce("gunicorn server hook not run (gowsgi has no such moment)", "hook", h)
		}
	}
}

// settingValues writes the JSON value of a setting as flag values: a
// scalar as one, a list as one for each item; null as none.
func settingValues(raw json.RawMessage) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	var values []string
	for _, item := range items {
		switch x := item.(type) {
		case nil:
			if isList {
				return nil, errors.New("None in a list")
			}
		case string:
			values = append(values, x)
		case json.Number:
			values = append(values, x.String())
		case bool:
			values = append(values, fmt.Sprint(x))
		default:
			return nil, fmt.Errorf("%s is not a string, number, bool or a list of them", raw)
		}
	}
	return values, nil
}

// gunicornFlag is the gowsgi flag of the gunicorn setting name, or "".
func gunicornFlag(name string) string {
	switch name {
	case "bind", "workers", "threads", "timeout", "chdir", "pythonpath", "reload", "certfile", "keyfile",
		"user", "group", "umask", "backlog":
		return name
	case "max_requests", "max_requests_jitter", "graceful_timeout", "forwarded_allow_ips",
		"limit_request_line", "limit_request_fields":
		return strings.ReplaceAll(name, "_", "-")
	case "limit_request_field_size":
		return "limit-request-field_size"
	case "worker_class":
		return "worker-class"
	case "keepalive":
		return "keep-alive"
	case "preload_app":
		return "preload"
	case "raw_env":
		return "env"
	case "accesslog":
		return "access-logfile"
	case "errorlog":
		return "error-logfile"
	case "loglevel":
		return "log-level"
	case "pidfile":
		return "pid"
	case "access_log_format":
		return "access-logformat"
	case "proxy_protocol", "ca_certs", "cert_reqs":
		return strings.ReplaceAll(name, "_", "-")
	case "proxy_allow_ips":
		return "proxy-allow-from"
	}
	return ""
}

// gunicornHookNames are gunicorn's server hooks, which its config file
// defines as functions.
func gunicornHookNames() []string {
	return []string{
		"on_starting", "on_reload", "when_ready", "pre_fork", "post_fork", "post_worker_init",
		"worker_int", "worker_abort", "pre_exec", "pre_request", "post_request", "child_exit",
		"worker_exit", "nworkers_changed", "on_exit", "ssl_context",
	}
}

// gunicornSettingNames are gunicorn's settings (23.0), for the warning of
// one gowsgi has no counterpart for.
func gunicornSettingNames() []string {
	return []string{
		"config", "wsgi_app", "bind", "backlog", "workers", "worker_class", "threads", "worker_connections",
		"max_requests", "max_requests_jitter", "timeout", "graceful_timeout", "keepalive",
		"limit_request_line", "limit_request_fields", "limit_request_field_size", "reload", "reload_engine",
		"reload_extra_files", "spew", "check_config", "print_config", "preload_app", "sendfile", "reuse_port",
		"chdir", "daemon", "raw_env", "pidfile", "worker_tmp_dir", "user", "group", "umask", "initgroups",
		"tmp_upload_dir", "secure_scheme_headers", "forwarded_allow_ips", "accesslog",
		"disable_redirect_access_to_syslog", "access_log_format", "errorlog", "loglevel", "capture_output",
		"logger_class", "logconfig", "logconfig_dict", "logconfig_json", "syslog_addr", "syslog",
		"syslog_prefix", "syslog_facility", "enable_stdio_inheritance", "statsd_host", "dogstatsd_tags",
		"statsd_prefix", "proc_name", "default_proc_name", "pythonpath", "paste", "raw_paste_global_conf",
		"permit_obsolete_folding", "strip_header_spaces", "permit_unconventional_http_method",
		"permit_unconventional_http_version", "casefold_http_method", "forwarder_headers", "header_map",
		"tolerate_dangerous_framing", "proxy_protocol", "proxy_allow_ips", "keyfile", "certfile",
		"ssl_version", "cert_reqs", "ca_certs", "suppress_ragged_eofs", "do_handshake_on_connect", "ciphers",
	}
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
