package wsgi

import (
	"fmt"
	"net/textproto"
)

// parseStatus checks a PEP 3333 status ("200 OK") and returns its code.
// net/http writes its own reason phrase for the code.
func parseStatus(s string) (int, error) {
	if len(s) < 4 || s[3] != ' ' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return 0, fmt.Errorf("start_response(): status %q is not a 3-digit code, a space and a reason (PEP 3333)", s)
	}
	code := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	if code < 200 {
		return 0, fmt.Errorf("start_response(): status %q: a 1xx status cannot end a response", s)
	}
	if hasCTL(s) {
		return 0, fmt.Errorf("start_response(): status %q has a control or non-latin-1 character", s)
	}
	return code, nil
}

// checkHeader checks one header of a response (its value as bytes) and
// returns its canonical name.
func checkHeader(name, value string) (string, error) {
	if !isToken(name) {
		return "", fmt.Errorf("start_response(): header name %q is not an HTTP token (RFC 9110)", name)
	}
	if hasCTL(value) {
		return "", fmt.Errorf("start_response(): header %s value %q has a control character (CR, LF or NUL would split the response)", name, value)
	}
	key := textproto.CanonicalMIMEHeaderKey(name)
	if hopByHop[key] {
		return "", fmt.Errorf("start_response(): hop-by-hop header %s is the server's to set (PEP 3333)", name)
	}
	return key, nil
}

// hopByHop lists the headers PEP 3333 forbids applications to set. It is
// never modified.
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

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hasCTL reports a control character other than horizontal tab.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) {
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
