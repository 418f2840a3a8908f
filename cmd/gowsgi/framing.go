package main

import "net/http"

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
