package adapter

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// bufferSize is how much body the response holds before it sends a chunk
// on its own; net/http's is 4 KiB, but here every chunk costs a crossing
// into Python and back.
const bufferSize = 32 << 10

var errHijack = errors.New("adapter: Hijack is not supported under WSGI: the Python server owns the connection, " +
	"and PEP 3333 has no way to hand it over (serve WebSockets from a Go net/http server instead)")

var errAfterReturn = errors.New("adapter: write after the handler returned")

// response is the http.ResponseWriter. Like net/http's, it must not be used
// from several goroutines at once, nor after the handler returns.
type response struct {
	x      *exchange
	req    *http.Request
	header http.Header

	status    int         // 0 until WriteHeader
	sent      http.Header // the header as of WriteHeader
	declared  int64       // its Content-Length, or -1
	written   int64       // body bytes written
	committed bool        // the head went to Python
	done      bool        // the handler returned
	buf       []byte      // body not yet sent
}

func newResponse(x *exchange, r *http.Request) *response {
	return &response{x: x, req: r, header: make(http.Header), declared: -1}
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("adapter: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.status != 0 {
		w.x.logf("adapter: superfluous WriteHeader(%d) for %s %s", code, w.req.Method, w.req.RequestURI)
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return // a WSGI application cannot send informational responses
	}
	w.status = code
	w.sent = w.header.Clone()
	if cl := w.sent.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if w.done {
		return 0, errAfterReturn
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.req.Method == http.MethodHead {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= bufferSize {
		if err := w.send(false); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// Flush sends the head, if it was not sent yet, and the buffered body to
// Python, which passes it to the server as one chunk of the WSGI iterable.
func (w *response) Flush() { w.FlushError() }

// FlushError is Flush, reporting errGone if the server closed the response.
// http.ResponseController uses it.
func (w *response) FlushError() error {
	if w.done {
		return errAfterReturn
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.send(false)
}

// Hijack fails: see errHijack. It logs why, since callers often do not.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.x.logf("%v", errHijack)
	return nil, nil, errHijack
}

// EnableFullDuplex succeeds: the body can always be read while the response
// is written, as far as the WSGI server allows.
func (w *response) EnableFullDuplex() error { return nil }

// finish ends the response when the handler has returned or panicked.
func (w *response) finish(panicked bool) {
	w.done = true
	if panicked && w.committed {
		w.x.abort()
		return
	}
	if panicked {
		w.status, w.declared, w.written, w.buf = 0, -1, 0, w.buf[:0]
		w.header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}}
		w.WriteHeader(http.StatusInternalServerError)
		w.buf = append(w.buf, "Internal Server Error\n"...)
		w.written = int64(len(w.buf))
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.send(true)
}

// send hands the head (the first time) and the buffered body to Python.
func (w *response) send(final bool) error {
	var head []byte
	if !w.committed {
		head = w.head(final)
		w.committed = true
	}
	if head == nil && len(w.buf) == 0 && !final {
		return nil
	}
	err := w.x.output(head, w.buf, final)
	w.buf = w.buf[:0]
	return err
}

// head returns the status line and header lines for start_response, adding
// Content-Type and Content-Length as net/http would.
func (w *response) head(final bool) []byte {
	h := w.sent
	if _, ok := h["Content-Type"]; !ok && bodyAllowed(w.status) && len(w.buf) > 0 && h.Get("Content-Encoding") == "" {
		h.Set("Content-Type", http.DetectContentType(w.buf))
	}
	if final && w.declared < 0 && bodyAllowed(w.status) && (w.req.Method != http.MethodHead || w.written > 0) {
		h.Set("Content-Length", strconv.FormatInt(w.written, 10))
	}
	text := http.StatusText(w.status)
	if text == "" {
		text = "status code " + strconv.Itoa(w.status)
	}
	b := make([]byte, 0, 256)
	b = append(b, strconv.Itoa(w.status)+" "+text+"\n"...)
	keys := make([]string, 0, len(h))
	for k := range h {
		if sendable(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b = append(b, k+": "...)
			b = append(b, newlinesToSpaces.Replace(strings.TrimSpace(v))...)
			b = append(b, '\n')
		}
	}
	return b
}

var newlinesToSpaces = strings.NewReplacer("\r", " ", "\n", " ", "\x00", " ")

// sendable reports whether a header may go to the WSGI server: PEP 3333
// forbids hop-by-hop headers, and WSGI has no trailers.
func sendable(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Trailers", "Transfer-Encoding", "Upgrade":
		return false
	}
	if strings.HasPrefix(name, http.TrailerPrefix) || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// bodyAllowed reports whether a response with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
