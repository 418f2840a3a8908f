package wsgi

import (
	"errors"
	"fmt"
	"github.com/gowsgi/gowsgi/internal/requestid"
	"log/slog"
	"net/http"
)

// The causes of an *Error, for errors.Is in a Config.ErrorHandler.
var (
	ErrAppRaised       = errors.New("app raised an exception")        // 500
	ErrInvalidResponse = errors.New("invalid response from app")      // 500
	ErrWorkerLost      = errors.New("worker failed during a request") // 502
	ErrTimeout         = errors.New("request timed out")              // 504
	ErrOverloaded      = errors.New("overloaded: request refused")    // 503
	ErrNotRunning      = errors.New("the app is not running")         // 503
	ErrBadRequest      = errors.New("the request cannot be served")   // 4xx
	ErrInternal        = errors.New("the server failed")              // 500
)

// An Error is why the Container answered a request in the app's place.
// Its text, with the worker, its exit status or the Python traceback, is
// for the log; the default response shows the client only the status and
// RequestID, which the log line carries too.
type Error struct {
	Status    int    // the response's status code
	RequestID string // the request's X-Request-Id, or one made up for it
	Err       error  // wraps one of the Err* causes, with the details
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// requestID returns r's id, as package accesslog set it, or a new one (put
// on the response too) if nothing in front of the Container gave it a sane
// one.
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := r.Header.Get(requestid.Header); requestid.Sane(id) {
		return id
	}
	id := requestid.New()
	r.Header.Set(requestid.Header, id)
	w.Header().Set(requestid.Header, id)
	return id
}

// fail is the one way the Container answers in the app's place: the log
// line says everything, tagged with the request id; the client gets the
// response of Config.ErrorHandler, by default the status text and the
// request id. If the response has started, the connection is cut instead
// (cut reports it): a truncated body must never look complete.
func (c *Container) fail(w http.ResponseWriter, r *http.Request, started bool, status int, err error, attrs ...any) (cut bool) {
	e := &Error{Status: status, RequestID: requestID(w, r), Err: err}
	level := slog.LevelError
	if status < 500 {
		// The client's fault, and in the access log already: thousands of
		// clients that give up in their bodies must not flood the log.
		level = slog.LevelDebug
	}
	attrs = append([]any{"request_id", e.RequestID, "status", status, "method", r.Method, "path", r.URL.Path}, attrs...)
	if status == http.StatusServiceUnavailable {
		// Under overload every refused request would have its line (75,163
		// in 2 s were seen): one a second, then how many more.
		c.refusals.Log(r.Context(), slog.LevelWarn, err.Error(), err.Error(), attrs...)
	} else {
		c.log.Log(r.Context(), level, err.Error(), attrs...)
	}
	if started {
		return true
	}
	h := w.Header()
	keep := h["Connection"] // the server's, as "close" after a bad body
	clearHeaders(h)
	if keep != nil {
		h["Connection"] = keep
	}
	h.Set(requestid.Header, e.RequestID)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if c.cfg.ErrorHandler != nil {
		c.cfg.ErrorHandler(w, r, e)
		return false
	}
	DefaultErrorHandler(w, r, e)
	return false
}

// DefaultErrorHandler is the response of a Container whose
// Config.ErrorHandler is nil: the status line's text and the request id,
// as plain text, and nothing a client could learn the server's insides
// from. err is an *Error.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status, id := http.StatusInternalServerError, ""
	var e *Error
	if errors.As(err, &e) {
		status, id = e.Status, e.RequestID
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s\nrequest id: %s\n", status, http.StatusText(status), id)
}

func clearHeaders(h http.Header) {
	for k := range h {
		delete(h, k)
	}
}
