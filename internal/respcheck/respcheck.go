// Package respcheck checks the status and headers an app's response
// carries, for the WSGI and ASGI containers alike, before net/http writes
// them: nothing an app sends may split a response or set what is the
// server's to set.
package respcheck

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
)

// Header checks one header of a response (its value as bytes) and returns
// its canonical name.
func Header(name, value string) (string, error) {
	if !IsToken(name) {
		return "", fmt.Errorf("header name %q is not an HTTP token (RFC 9110)", name)
	}
	if HasCTL(value) {
		return "", fmt.Errorf("header %s value %q has a control character (CR, LF or NUL would split the response)", name, value)
	}
	key := textproto.CanonicalMIMEHeaderKey(name)
	if hopByHop[key] {
		return "", fmt.Errorf("hop-by-hop header %s is the server's to set", name)
	}
	return key, nil
}

// hopByHop lists the headers an application must not set (PEP 3333, and
// the connection-specific headers of RFC 9110). It is never modified.
var hopByHop = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Trailers":            true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// IsDigit reports an ASCII digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// HasCTL reports a control character other than horizontal tab.
func HasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// IsToken reports whether s is an RFC 9110 token.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || IsDigit(c) {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			continue
		}
		return false
	}
	return true
}

// Headers puts an app's response headers into an http.Header, each
// checked by Header, for the WSGI and ASGI containers alike. A
// Content-Length must be a non-negative integer, the same each time it
// is repeated, and replaces rather than adds.
type Headers struct {
	h        http.Header
	declared int64    // the Content-Length set, or -1
	values   []string // Grow's: the one-value slices of new names are cut from it
}

// NewHeaders returns the Headers that add to h.
func NewHeaders(h http.Header) Headers { return Headers{h: h, declared: -1} }

// Grow makes room for n more headers: the values of names not yet in h
// then share one allocation instead of one each.
func (hs *Headers) Grow(n int) { hs.values = make([]string, 0, n) }

// one returns []string{value}, from Grow's room if there is any left.
func (hs *Headers) one(value string) []string {
	n := len(hs.values)
	if n == cap(hs.values) {
		return []string{value}
	}
	hs.values = append(hs.values, value)
	return hs.values[n : n+1 : n+1] // full: an append to it copies
}

// Add checks one header and adds it.
func (hs *Headers) Add(name, value string) error {
	key, err := Header(name, value)
	if err != nil {
		return err
	}
	if key == "Content-Length" {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || hs.declared >= 0 && n != hs.declared {
			return fmt.Errorf("bad Content-Length %q", value)
		}
		hs.declared = n
		hs.h[key] = hs.one(value)
		return nil
	}
	if old := hs.h[key]; old != nil {
		hs.h[key] = append(old, value)
	} else {
		hs.h[key] = hs.one(value)
	}
	return nil
}

// Declared returns the Content-Length the app set, or -1.
func (hs *Headers) Declared() int64 { return hs.declared }

// Finish ends the headers: without a Content-Type from the app, net/http
// must not sniff one.
func (hs *Headers) Finish() {
	if _, ok := hs.h["Content-Type"]; !ok {
		hs.h["Content-Type"] = nil
	}
}
