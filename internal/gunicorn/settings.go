package gunicorn

// A Setting is one of gunicorn's settings (23.0), as its config file names
// it, and what gowsgi does with it.
type Setting struct {
	Name string // in a config file: max_requests

	// Flag is gunicorn's flag for it, without dashes, if gowsgi takes
	// it: for a Supported or Mapped setting, gowsgi's flag of that name,
	// which a config file's value sets; for a Warned one, a flag that
	// gowsgi accepts and ignores, with a warning, so that a gunicorn
	// command line runs; for a Refused one, a flag that stops serve.
	// "" if gowsgi takes none (gunicorn's flag, if any, is unknown).
	// config and wsgi_app have none: the file itself, and the app.
	Flag string

	// Alias is gunicorn's other name for Flag, if gowsgi takes it: "b"
	// for bind, "log-file" for error-logfile.
	Alias string

	// NoValue says that Flag takes no value (a boolean flag).
	NoValue bool

	Status Status
}

// Status is what gowsgi does with a gunicorn setting.
type Status int

const (
	// Warned: no counterpart; a warning names it, in a config file or as
	// a flag, and nothing else happens.
	Warned Status = iota

	// Supported: Flag, with gunicorn's meaning (README says where
	// gowsgi's default or answer differs).
	Supported

	// Mapped: Flag, whose values or effect are gowsgi's counterparts of
	// gunicorn's: worker_class (WorkerClass), timeout (a request
	// silent for so long gets 504 and its worker is replaced).
	Mapped

	// Refused: daemon; its flag stops serve with the reason, a config
	// file's is warned of.
	Refused
)

// Gunicorn's defaults for its request limits and the listen queue, which
// gowsgi's flags of those names keep.
const (
	DefaultLimitRequestLine      = 4094
	DefaultLimitRequestFields    = 100
	DefaultLimitRequestFieldSize = 8190
	DefaultBacklog               = 2048
)

// Settings returns gunicorn's settings, in the order of its documentation.
func Settings() []Setting {
	return []Setting{
		{Name: "config", Status: Supported},
		{Name: "wsgi_app", Status: Supported},
		{Name: "bind", Flag: "bind", Alias: "b", Status: Supported},
		{Name: "backlog", Flag: "backlog", Status: Supported},
		{Name: "workers", Flag: "workers", Alias: "w", Status: Supported},
		{Name: "worker_class", Flag: "worker-class", Alias: "k", Status: Mapped},
		{Name: "threads", Flag: "threads", Status: Supported},
		{Name: "worker_connections", Flag: "worker-connections"},
		{Name: "max_requests", Flag: "max-requests", Status: Supported},
		{Name: "max_requests_jitter", Flag: "max-requests-jitter", Status: Supported},
		{Name: "timeout", Flag: "timeout", Alias: "t", Status: Mapped},
		{Name: "graceful_timeout", Flag: "graceful-timeout", Status: Supported},
		{Name: "keepalive", Flag: "keep-alive", Status: Supported},
		{Name: "limit_request_line", Flag: "limit-request-line", Status: Supported},
		{Name: "limit_request_fields", Flag: "limit-request-fields", Status: Supported},
		{Name: "limit_request_field_size", Flag: "limit-request-field_size", Status: Supported},
		{Name: "reload", Flag: "reload", Status: Supported},
		{Name: "reload_engine", Flag: "reload-engine"},
		{Name: "reload_extra_files", Flag: "reload-extra-file"},
		{Name: "spew", Flag: "spew", NoValue: true},
		{Name: "check_config"},
		{Name: "print_config"},
		{Name: "preload_app", Flag: "preload", Status: Supported},
		{Name: "sendfile", Flag: "no-sendfile", NoValue: true},
		{Name: "reuse_port", Flag: "reuse-port", NoValue: true},
		{Name: "chdir", Flag: "chdir", Status: Supported},
		{Name: "daemon", Flag: "daemon", Alias: "D", NoValue: true, Status: Refused},
		{Name: "raw_env", Flag: "env", Alias: "e", Status: Supported},
		{Name: "pidfile", Flag: "pid", Alias: "p", Status: Supported},
		{Name: "worker_tmp_dir", Flag: "worker-tmp-dir"},
		{Name: "user", Flag: "user", Alias: "u", Status: Supported},
		{Name: "group", Flag: "group", Alias: "g", Status: Supported},
		{Name: "umask", Flag: "umask", Alias: "m", Status: Supported},
		{Name: "initgroups", Flag: "initgroups", NoValue: true},
		{Name: "tmp_upload_dir"},
		{Name: "secure_scheme_headers"},
		{Name: "forwarded_allow_ips", Flag: "forwarded-allow-ips", Status: Supported},
		{Name: "accesslog", Flag: "access-logfile", Status: Supported},
		{Name: "disable_redirect_access_to_syslog", Flag: "disable-redirect-access-to-syslog", NoValue: true},
		{Name: "access_log_format", Flag: "access-logformat", Status: Supported},
		{Name: "errorlog", Flag: "error-logfile", Alias: "log-file", Status: Supported},
		{Name: "loglevel", Flag: "log-level", Status: Supported},
		{Name: "capture_output", Flag: "capture-output", NoValue: true},
		{Name: "logger_class"},
		{Name: "logconfig", Flag: "log-config"},
		{Name: "logconfig_dict"},
		{Name: "logconfig_json"},
		{Name: "syslog_addr", Flag: "log-syslog-to"},
		{Name: "syslog", Flag: "log-syslog", NoValue: true},
		{Name: "syslog_prefix", Flag: "log-syslog-prefix"},
		{Name: "syslog_facility", Flag: "log-syslog-facility"},
		{Name: "enable_stdio_inheritance", Flag: "enable-stdio-inheritance", Alias: "R", NoValue: true},
		{Name: "statsd_host", Flag: "statsd-host"},
		{Name: "dogstatsd_tags", Flag: "dogstatsd-tags"},
		{Name: "statsd_prefix", Flag: "statsd-prefix"},
		{Name: "proc_name", Flag: "name", Alias: "n"},
		{Name: "default_proc_name"},
		{Name: "pythonpath", Flag: "pythonpath", Status: Supported},
		{Name: "paste"},
		{Name: "raw_paste_global_conf"},
		{Name: "permit_obsolete_folding"},
		{Name: "strip_header_spaces", Flag: "strip-header-spaces", NoValue: true},
		{Name: "permit_unconventional_http_method"},
		{Name: "permit_unconventional_http_version"},
		{Name: "casefold_http_method"},
		{Name: "forwarder_headers"},
		{Name: "header_map"},
		{Name: "tolerate_dangerous_framing"},
		{Name: "proxy_protocol", Flag: "proxy-protocol", Status: Supported},
		{Name: "proxy_allow_ips", Flag: "proxy-allow-from", Status: Supported},
		{Name: "keyfile", Flag: "keyfile", Status: Supported},
		{Name: "certfile", Flag: "certfile", Status: Supported},
		{Name: "ssl_version", Flag: "ssl-version"},
		{Name: "cert_reqs", Flag: "cert-reqs", Status: Supported},
		{Name: "ca_certs", Flag: "ca-certs", Status: Supported},
		{Name: "suppress_ragged_eofs", Flag: "suppress-ragged-eofs", NoValue: true},
		{Name: "do_handshake_on_connect", Flag: "do-handshake-on-connect", NoValue: true},
		{Name: "ciphers", Flag: "ciphers"},
	}
}

// LookupSetting returns the gunicorn setting name, if it is one.
func LookupSetting(name string) (Setting, bool) {
	for _, s := range Settings() {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Sets reports whether a config file's value of s sets its Flag: s is
// Supported or Mapped, and has one.
func (s Setting) Sets() bool {
	return s.Flag != "" && (s.Status == Supported || s.Status == Mapped)
}
