package main

import (
	"net/http"
	"strconv"
)

// limitRequest answers for a request over gunicorn's limits, 0 meaning
// none: 414 for a request line (method, target and version, as sent) over
// --limit-request-line bytes; 431 for more than --limit-request-fields
// header fields, or one ("Name: value") over --limit-request-field_size
// bytes. gunicorn answers 400 for the line and 431 for the fields; 414 is
// what RFC 9110 has for a target too long, the one part of a request line
// that can be, and 431 (RFC 6585) is for "the header fields, or one of
// them". HTTP/1 connections are closed after, as after limitHead's.
func limitRequest(h http.Handler, g *gunicornOptions) http.Handler {
	if g.limitRequestLine == 0 && g.limitRequestFields == 0 && g.limitRequestFieldSize == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, why := overLimits(r, g); code != 0 {
			if r.ProtoMajor == 1 {
				w.Header().Set("Connection", "close")
			}
			http.Error(w, strconv.Itoa(code)+" "+http.StatusText(code)+": "+why, code)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// overLimits returns the status for r if it is over a limit of g, and
// which one, or 0.
func overLimits(r *http.Request, g *gunicornOptions) (int, string) {
	if max := g.limitRequestLine; max > 0 && len(r.Method)+1+len(r.RequestURI)+1+len(r.Proto) > max {
		return http.StatusRequestURITooLong, "request line over " + strconv.Itoa(max) + " bytes"
	}
	// net/http took Host and Transfer-Encoding out of r.Header.
	n, longest := 0, 0
	field := func(name, value string) {
		n++
		longest = max(longest, len(name)+len(": ")+len(value))
	}
	if r.Host != "" && r.ProtoMajor == 1 {
		field("Host", r.Host)
	}
	for _, te := range r.TransferEncoding {
		field("Transfer-Encoding", te)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			field(k, v)
		}
	}
	if max := g.limitRequestFields; max > 0 && n > max {
		return http.StatusRequestHeaderFieldsTooLarge, "more than " + strconv.Itoa(max) + " header fields"
	}
	if max := g.limitRequestFieldSize; max > 0 && longest > max {
		return http.StatusRequestHeaderFieldsTooLarge, "a header field over " + strconv.Itoa(max) + " bytes"
	}
	return 0, ""
}
