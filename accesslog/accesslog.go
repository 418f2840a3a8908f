// Package accesslog is HTTP middleware that gives each request an ID,
// measures it, and writes an access log line once it is done.
//
// The request ID is the request's X-Request-ID header if it is sane (1 to
// 200 characters, letters, digits and -_.:+=/@ only), else 16 random bytes
// in hex. It replaces the header on the request, so that a WSGI
// application sees it as HTTP_X_REQUEST_ID, and is echoed on the response.
//
// Lines come in Apache's common and combined formats, followed by
// rid=ID worker=N duration=SECONDS, or as one JSON object per line:
//
//	127.0.0.1 - - [10/Oct/2025:13:55:36 +0000] "GET /a?b=1 HTTP/1.1" 200 2326 "http://x/" "curl/8.0" rid=3f2a… worker=0 duration=0.001234
//	{"time":"2025-10-10T13:55:36.5Z","id":"3f2a…","remote_addr":"127.0.0.1","method":"GET","uri":"/a?b=1",…}
//
// A Template (ParseTemplate) writes lines in gunicorn's access_log_format
// instead, as gunicorn's atoms say.
//
// The worker is the Python worker that served the request, as an inner
// handler records it with FromContext; "-" (or -1 in JSON) when none did.
//
// A File, as Output, is a log file that can be reopened after log rotation.
//
// It is one of the four packages that gowsgi serve composes around a
// wsgi.Container, and a Go program composes the same way (see the wsgi
// package's Example (middleware)): forwarded, accesslog and static in front
// of it, in that order, and admin beside it, on an address of its own.
package accesslog

import (
	"encoding/json"
	"fmt"
	"github.com/gowsgi/gowsgi/internal/requestid"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// A Format is the format of the access log lines.
type Format int

// The formats.
const (
	Off      Format = iota // no lines; IDs and Observe still work
	Common                 // Apache's common log format, and rid, worker, duration
	Combined               // common, with the Referer and User-Agent
	JSON                   // one JSON object per line
)

var formatNames = []string{"off", "common", "combined", "json"}

func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return "Format(" + strconv.Itoa(int(f)) + ")"
	}
	return formatNames[f]
}

// ParseFormat returns the Format named s: off, common, combined or json.
func ParseFormat(s string) (Format, error) {
	for i, name := range formatNames {
		if s == name {
			return Format(i), nil
		}
	}
	return Off, fmt.Errorf("%q is not one of off, common, combined, json", s)
}

// Config configures a Handler. The zero value gives requests IDs and logs
// nothing.
type Config struct {
	// Format is the format of the lines; Off (the zero value) writes none.
	Format Format

	// Template, if not nil, is the format of the lines instead of Format:
	// gunicorn's access_log_format (ParseTemplate).
	Template *Template

	// Output receives the lines, one Write each; nil means io.Discard.
	Output io.Writer

	// Observe, if not nil, is called once each request is done, after its
	// line is written, with its Record, which it must not keep: for
	// metrics.
	Observe func(*Record)
}

// A Record describes a request and its response.
type Record struct {
	ID         string
	Start      time.Time
	Duration   time.Duration
	RemoteAddr string // the client's host, without the port
	User       string // from basic authentication; "" if none
	Method     string
	URI        string // as sent: path and query
	Path       string // decoded, without the query
	Query      string // as sent, without the "?"
	Proto      string
	Host       string
	Referer    string
	UserAgent  string
	Status     int   // 200 if the handler wrote nothing
	Bytes      int64 // of the response body

	// Worker is the ID of the Python worker that served the request, set
	// by a wsgi.Container through the ResponseWriter (its ServedBy method)
	// or by an inner handler through FromContext; -1 if none did (a static
	// file, a request refused before reaching the app).
	Worker int

	// For a Template's {header}i, {header}o and {variable}e atoms.
	request    *http.Request
	respHeader http.Header
}

type recordKey struct{}

// FromContext returns the Record of the request whose context is ctx, for
// inner handlers to fill in Worker; nil outside a Handler.
func FromContext(ctx interface{ Value(any) any }) *Record {
	r, _ := ctx.Value(recordKey{}).(*Record)
	return r
}

// A Handler is the middleware: it serves requests with next.
type Handler struct {
	cfg  Config
	next http.Handler
	mu   sync.Mutex // serializes writes to cfg.Output
}

// New returns a Handler that serves with next as cfg says.
func New(cfg Config, next http.Handler) *Handler {
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	return &Handler{cfg: cfg, next: next}
}

// HeaderName is the request ID's header, on requests and responses.
const HeaderName = requestid.Header

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Record{Start: time.Now(), Worker: -1, Status: http.StatusOK}
	rec.ID = r.Header.Get(HeaderName)
	if !requestid.Sane(rec.ID) {
		rec.ID = requestid.New()
	}
	r.Header[HeaderName] = []string{rec.ID}
	w.Header().Set(HeaderName, rec.ID)
	rec.Method, rec.URI, rec.Proto, rec.Host = r.Method, r.RequestURI, r.Proto, r.Host
	if rec.URI == "" {
		rec.URI = r.URL.RequestURI()
	}
	rec.Path, rec.Query = r.URL.Path, r.URL.RawQuery
	rec.RemoteAddr = r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		rec.RemoteAddr = host
	}
	rec.User, _, _ = r.BasicAuth()
	rec.Referer, rec.UserAgent = r.Referer(), r.UserAgent()

	rec.request, rec.respHeader = r, w.Header()
	rw := &responseWriter{ResponseWriter: w, rec: rec}
	defer func() {
		rec.Duration = time.Since(rec.Start)
		h.write(rec)
		if h.cfg.Observe != nil {
			h.cfg.Observe(rec)
		}
	}()
	h.next.ServeHTTP(rw, r.WithContext(contextWith(r, rec)))
}

// write writes rec's line, if the format has lines.
func (h *Handler) write(rec *Record) {
	var b []byte
	switch {
	case h.cfg.Template != nil:
		b = h.cfg.Template.Append(make([]byte, 0, 256), rec)
	case h.cfg.Format == Common || h.cfg.Format == Combined:
		b = appendCommon(make([]byte, 0, 256), rec, h.cfg.Format == Combined)
	case h.cfg.Format == JSON:
		b = appendJSON(rec)
	default:
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cfg.Output.Write(b)
}

// appendCommon appends rec in Apache's common or combined format, with
// rid, worker and duration after it.
func appendCommon(b []byte, rec *Record, combined bool) []byte {
	b = appendField(b, rec.RemoteAddr)
	b = append(b, " - "...)
	b = appendField(b, rec.User)
	b = append(b, " ["...)
	b = rec.Start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = appendEscaped(b, rec.Method+" "+rec.URI+" "+rec.Proto)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(rec.Status), 10)
	b = append(b, ' ')
	if rec.Bytes == 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, rec.Bytes, 10)
	}
	if combined {
		b = append(b, " \""...)
		b = appendField(b, rec.Referer)
		b = append(b, "\" \""...)
		b = appendField(b, rec.UserAgent)
		b = append(b, '"')
	}
	b = append(b, " rid="...)
	b = append(b, rec.ID...) // sane by construction
	b = append(b, " worker="...)
	if rec.Worker < 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, int64(rec.Worker), 10)
	}
	b = append(b, " duration="...)
	b = strconv.AppendFloat(b, rec.Duration.Seconds(), 'f', 6, 64)
	return append(b, '\n')
}

// appendField appends s escaped, or "-" if it is empty.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEscaped(b, s)
}

// appendEscaped appends s with quotes, backslashes, spaces' kin and other
// bytes outside printable ASCII escaped, as Apache does, so that a line
// cannot be forged or broken by what a client sends.
func appendEscaped(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

// jsonRecord is a Record as a JSON line.
type jsonRecord struct {
	Time       string  `json:"time"`
	ID         string  `json:"id"`
	RemoteAddr string  `json:"remote_addr"`
	User       string  `json:"user,omitempty"`
	Method     string  `json:"method"`
	URI        string  `json:"uri"`
	Proto      string  `json:"proto"`
	Host       string  `json:"host"`
	Status     int     `json:"status"`
	Bytes      int64   `json:"bytes"`
	Duration   float64 `json:"duration"` // seconds
	Referer    string  `json:"referer,omitempty"`
	UserAgent  string  `json:"user_agent,omitempty"`
	Worker     int     `json:"worker"`
}

func appendJSON(rec *Record) []byte {
	b, _ := json.Marshal(jsonRecord{
		Time: rec.Start.UTC().Format(time.RFC3339Nano), ID: rec.ID, RemoteAddr: rec.RemoteAddr, User: rec.User,
		Method: rec.Method, URI: rec.URI, Proto: rec.Proto, Host: rec.Host, Status: rec.Status, Bytes: rec.Bytes,
		Duration: rec.Duration.Seconds(), Referer: rec.Referer, UserAgent: rec.UserAgent, Worker: rec.Worker,
	})
	return append(b, '\n')
}
