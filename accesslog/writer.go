package accesslog

import (
	"context"
	"io"
	"net/http"
)

func contextWith(r *http.Request, rec *Record) context.Context {
	return context.WithValue(r.Context(), recordKey{}, rec)
}

// responseWriter records the status and size of a response. It passes
// ReadFrom on, so that files still go out with sendfile, and unwraps for
// http.ResponseController (flushing, hijacking, deadlines).
type responseWriter struct {
	http.ResponseWriter
	rec         *Record
	wroteHeader bool
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServedBy records the worker that served the request: the wsgi.Container
// calls it on the ResponseWriter it is given (see wsgi.ServedByWriter).
func (w *responseWriter) ServedBy(worker int) { w.rec.Worker = worker }

func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(code) // net/http logs the superfluous call
		return
	}
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.wroteHeader = true
		w.rec.Status = code
		// An app that echoes the request ID itself must not make two.
		h := w.Header()
		if ids := h[HeaderName]; len(ids) == 2 && ids[0] == ids[1] {
			h[HeaderName] = ids[:1]
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.rec.Bytes += int64(n)
	return n, err
}

func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.rec.Bytes += n
	return n, err
}

// Flush flushes, for handlers that assert http.Flusher rather than use
// http.ResponseController.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}
