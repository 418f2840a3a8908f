// Package funnel is the one way a container (wsgi.Container,
// asgi.Container) answers a request in its app's place: one log line with
// the request id and every detail, then the configured error response, or
// a cut connection once the app's response has started.
package funnel

import (
	"log/slog"
	"net/http"

	"github.com/gowsgi/gowsgi/internal/lograte"
	"github.com/gowsgi/gowsgi/internal/requestid"
)

// A Funnel logs and answers failures for one container.
type Funnel struct {
	Log      *slog.Logger
	Refusals *lograte.Limiter // the log lines of 503s: one a second

	// Respond writes the response of a failure, once the headers are
	// cleared (but X-Request-Id, Retry-After for 503 and the server's
	// Connection): the container's ErrorHandler with its *Error.
	Respond func(w http.ResponseWriter, r *http.Request, status int, id string, err error)
}

// Fail logs err, tagged with r's request id, and answers status through
// Respond. If the response has started, the connection is to be cut
// instead, which Fail reports: a truncated body must never look complete.
func (f *Funnel) Fail(w http.ResponseWriter, r *http.Request, started bool, status int, err error, attrs ...any) (cut bool) {
	id := RequestID(w, r)
	level := slog.LevelError
	if status < 500 {
		// The client's fault, and in the access log already: thousands of
		// clients that give up in their bodies must not flood the log.
		level = slog.LevelDebug
	}
	head := []any{"request_id", id, "status", status}
	if started {
		// The client sees a cut, not status: the line says so, with the
		// status the answer would have had.
		head = []any{"request_id", id, "status", "cut", "would_be", status}
	}
	attrs = append(append(head, "method", r.Method, "path", r.URL.Path), attrs...)
	if status == http.StatusServiceUnavailable {
		// Under overload every refused request would have its line (75,163
		// in 2 s were seen): one a second, then how many more.
		f.Refusals.Log(r.Context(), slog.LevelWarn, err.Error(), err.Error(), attrs...)
	} else {
		f.Log.Log(r.Context(), level, err.Error(), attrs...)
	}
	if started {
		return true
	}
	h := w.Header()
	keep := h["Connection"] // the server's, as "close" after a bad body
	for k := range h {
		delete(h, k)
	}
	if keep != nil {
		h["Connection"] = keep
	}
	h.Set(requestid.Header, id)
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	f.Respond(w, r, status, id, err)
	return false
}

// RequestID returns r's id, as package accesslog set it, or a new one (put
// on the response too) if nothing in front of the container gave it a
// sane one.
func RequestID(w http.ResponseWriter, r *http.Request) string {
	if id := r.Header.Get(requestid.Header); requestid.Sane(id) {
		return id
	}
	id := requestid.New()
	r.Header.Set(requestid.Header, id)
	w.Header().Set(requestid.Header, id)
	return id
}
