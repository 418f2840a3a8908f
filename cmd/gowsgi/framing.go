package main

import (
	"io"
	"net/http"
	"strconv"
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
//
// An HTTP/1.0 request with Transfer-Encoding gets 400, as from gunicorn:
// net/http drops the field and reads no body, so the chunked body would be
// read as the next request. The rawConn of the connection (withRawConn)
// says whether the field came; where it cannot (TLS, or it stopped
// scanning after an HTTP/1.1 request), an HTTP/1.0 request closes the
// connection, so that nothing after it is read.
func closeAfterRiskyFraming(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 {
			h.ServeHTTP(w, r)
			return
		}
		rc, _ := r.Context().Value(rawConnKey{}).(*rawConn)
		switch {
		case r.ProtoMinor == 0 && rc != nil && rc.sawTE.Load():
			w.Header().Set("Connection", "close")
			http.Error(w, "Bad Request: Transfer-Encoding in an HTTP/1.0 request", http.StatusBadRequest)
			return
		case r.ProtoMinor == 0 && (rc == nil || !rc.scanned() || r.ContentLength != 0):
			w.Header().Set("Connection", "close")
		case len(r.TransferEncoding) > 0:
			w.Header().Set("Connection", "close")
		}
		if r.ProtoMinor > 0 && rc != nil {
			// An HTTP/1.1 client: what follows is its body and more
			// HTTP/1.1 requests, not worth a scan.
			rc.stopScan()
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

// limitHead answers for a request whose head is over a limit, measured
// once for all of them, and closes the connection after (HTTP/1): 431 for
// a head (request line, header fields and the blank line, as HTTP/1.1
// sends them: "Name: value\r\n") over max bytes,
// --limit-request-fields-size; then gunicorn's limits of g (overLimits,
// limits.go). net/http reads up to 4096 bytes more than its MaxHeaderBytes
// before it answers 431 itself, so that the limit would not be the one
// configured.
func limitHead(h http.Handler, max int64, g *gunicornOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := measureHead(r)
		code, msg := 0, ""
		if m.size > max {
			code, msg = http.StatusRequestHeaderFieldsTooLarge, "431 Request Header Fields Too Large"
		} else if c, why := overLimits(&m, g); c != 0 {
			code, msg = c, strconv.Itoa(c)+" "+http.StatusText(c)+": "+why
		}
		if code != 0 {
			if r.ProtoMajor == 1 {
				w.Header().Set("Connection", "close")
			}
			http.Error(w, msg, code)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// A headMeasure is what the limits of a request's head look at.
type headMeasure struct {
	line    int   // the request line as sent: method, target, version
	fields  int   // header fields, Host (in HTTP/1) and Transfer-Encoding included
	longest int   // the longest field, as "Name: value"
	size    int64 // the head as HTTP/1.1 writes it
}

// measureHead measures r's head, counting the fields net/http took out of
// r.Header: Host and Transfer-Encoding.
func measureHead(r *http.Request) headMeasure {
	const crlf = 2 // "\r\n"
	m := headMeasure{line: len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto)}
	m.size = int64(m.line + crlf + crlf) // and the blank line
	if r.Host != "" {
		if r.ProtoMajor == 1 {
			m.field("Host", r.Host)
		} else {
			m.size += int64(len("Host: ") + len(r.Host) + crlf) // HTTP/2's :authority, not a field
		}
	}
	for _, te := range r.TransferEncoding {
		m.field("Transfer-Encoding", te)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			m.field(k, v)
		}
	}
	return m
}

func (m *headMeasure) field(name, value string) {
	n := len(name) + len(": ") + len(value)
	m.fields++
	m.longest = max(m.longest, n)
	m.size += int64(n + len("\r\n"))
}
