package main

import (
	"net/http"
	"strconv"
)

// overLimits returns the status for a request whose head measures m if it
// is over one of gunicorn's limits of g, 0 meaning none, and which one;
// else 0. limitHead answers with it: 414 for a request line (method,
// target and version, as sent) over --limit-request-line bytes; 431 for
// more than --limit-request-fields header fields, or one ("Name: value")
// over --limit-request-field_size bytes. gunicorn answers 400 for the
// line and 431 for the fields; 414 is what RFC 9110 has for a target too
// long, the one part of a request line that can be, and 431 (RFC 6585) is
// for "the header fields, or one of them".
func overLimits(m *headMeasure, g *gunicornOptions) (int, string) {
	if max := g.limitRequestLine; max > 0 && m.line > max {
		return http.StatusRequestURITooLong, "request line over " + strconv.Itoa(max) + " bytes"
	}
	if max := g.limitRequestFields; max > 0 && m.fields > max {
		return http.StatusRequestHeaderFieldsTooLarge, "more than " + strconv.Itoa(max) + " header fields"
	}
	if max := g.limitRequestFieldSize; max > 0 && m.longest > max {
		return http.StatusRequestHeaderFieldsTooLarge, "a header field over " + strconv.Itoa(max) + " bytes"
	}
	return 0, ""
}
