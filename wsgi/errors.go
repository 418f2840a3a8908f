package wsgi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gowsgi/gowsgi/internal/funnel"
	"github.com/gowsgi/gowsgi/internal/lograte"
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

// requestID returns r's id, or a new one (see funnel.RequestID).
func requestID(w http.ResponseWriter, r *http.Request) string { return funnel.RequestID(w, r) }

// fail is the one way the Container answers in the app's place (see
// package funnel): cut reports a started response, whose connection must
// be cut instead.
func (c *Container) fail(w http.ResponseWriter, r *http.Request, started bool, status int, err error, attrs ...any) (cut bool) {
	return c.funnel.Fail(w, r, started, status, err, attrs...)
}

// newFunnel returns the error funnel of a Container of cfg.
func (cfg Config) newFunnel() funnel.Funnel {
	return funnel.Funnel{Log: cfg.Logger, Refusals: lograte.New(cfg.Logger, time.Second),
		Respond: func(w http.ResponseWriter, r *http.Request, status int, id string, err error) {
			ErrorResponse(cfg.ErrorHandler, w, r, status, id, err)
		}}
}

// ErrorResponse writes the response of an answer made in the app's place:
// handler (DefaultErrorHandler if nil) with the *Error of status, id and
// err. Package asgi's Container answers through it too.
func ErrorResponse(handler func(http.ResponseWriter, *http.Request, error), w http.ResponseWriter, r *http.Request, status int, id string, err error) {
	if handler == nil {
		handler = DefaultErrorHandler
	}
	handler(w, r, &Error{Status: status, RequestID: id, Err: err})
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
