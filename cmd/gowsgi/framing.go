package main

import (
	"io"
	"net/http"
	"time"
)

// closeAfterRiskyFraming closes the connection after each HTTP/1 request
// whose body framing a proxy in front could have read otherwise than
// net/http, so that no bytes after it are taken for a next request.
//
// RFC 9112, section 6.1: after a request with both Transfer-Encoding and
// Content-Length, and after an HTTP/1.0 request with Transfer-Encoding, the
// server must close the connection. net/http removes both fields before the
// handler runs, so the handler cannot tell those requests apart: it closes
// after every chunked request and every HTTP/1.0 request with a body. Both
// are rare (proxies send Content-Length), and the cost is one new
// connection.
func closeAfterRiskyFraming(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && (len(r.TransferEncoding) > 0 || r.ProtoMinor == 0 && r.ContentLength != 0) {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// bodyTimeout makes each read of a request body fail if the client sends
// nothing for d, as nginx's client_body_timeout: net/http bounds only the
// headers (ReadHeaderTimeout), so a client that stalls in its body would
// hold its connection for ever. The deadline is lifted once the body is
// read, so that it never cuts a response the app takes long to make.
//
// With minRate (bytes per second) above 0, the body as a whole must also
// arrive at that rate on average, after a grace of d, as Apache's
// mod_reqtimeout MinRate: a client that sends a byte just before each
// timeout would hold its connection for ever too.
func bodyTimeout(h http.Handler, d time.Duration, minRate int64) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), d: d,
				rate: minRate, start: time.Now(), left: r.ContentLength}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody is a request body whose reads each have a deadline.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	d     time.Duration
	rate  int64 // bytes per second the body must average, if > 0
	start time.Time
	read  int64
	left  int64 // bytes of a declared length still to come, or -1
	done  bool
}

// deadline is the next read's: d from now, and no later than the bytes
// read so far allow at the minimum rate, d after the body began.
func (b *deadlineBody) deadline() time.Time {
	dl := time.Now().Add(b.d)
	if b.rate <= 0 {
		return dl
	}
	secs := float64(b.read) / float64(b.rate)
	if secs > 1e9 {
		return dl // decades: no bound, and no overflow
	}
	if overall := b.start.Add(b.d + time.Duration(secs*float64(time.Second))); overall.Before(dl) {
		return overall
	}
	return dl
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	b.rc.SetReadDeadline(b.deadline())
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.left > 0 {
		b.left -= int64(n)
	}
	switch {
	case err == io.EOF || err == nil && b.left == 0:
		// The whole body is in: net/http's own read of the connection,
		// which notices a client leaving, must not time out while the app
		// works.
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case err != nil:
		// It never will be. The deadline stays, so that net/http, which
		// reads what is left of a body after the handler, gives up at
		// once and closes the connection.
		b.done = true
	}
	return n, err
}
