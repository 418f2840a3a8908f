package wsgi

import (
	"fmt"
	"net/textproto"

	"github.com/gowsgi/gowsgi/internal/marshal"
)

// parseStatus checks a PEP 3333 status ("200 OK") and returns its code.
// net/http writes its own reason phrase for the code.
func parseStatus(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("start_response(): status must be str (PEP 3333), not %s", pyType(v))
	}
	if len(s) < 4 || s[3] != ' ' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return 0, fmt.Errorf("start_response(): status %q is not a 3-digit code, a space and a reason (PEP 3333)", s)
	}
	code := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	if code < 200 {
		return 0, fmt.Errorf("start_response(): status %q: a 1xx status cannot end a response", s)
	}
	if _, ok := marshal.Latin1(s); !ok || hasCTL(s) {
		return 0, fmt.Errorf("start_response(): status %q has a control or non-latin-1 character", s)
	}
	return code, nil
}

// parseHeader checks one (name, value) header of a Start frame and returns
// its canonical name and its value as bytes.
func parseHeader(item any) (string, string, error) {
	t, ok := item.(marshal.Tuple)
	if !ok || len(t) != 2 {
		return "", "", fmt.Errorf("start_response(): each header must be a (name, value) tuple (PEP 3333), not %s", pyType(item))
	}
	name, ok := t[0].(string)
	if !ok {
		return "", "", fmt.Errorf("start_response(): header name must be str (PEP 3333), not %s", pyType(t[0]))
	}
	value, ok := t[1].(string)
	if !ok {
		return "", "", fmt.Errorf("start_response(): header %s has a value of type %s where PEP 3333 needs str", name, pyType(t[1]))
	}
	if !isToken(name) {
		return "", "", fmt.Errorf("start_response(): header name %q is not an HTTP token (RFC 9110)", name)
	}
	raw, ok := marshal.Latin1(value)
	if !ok {
		return "", "", fmt.Errorf("start_response(): header %s value %q has a character beyond latin-1", name, value)
	}
	if hasCTL(raw) {
		return "", "", fmt.Errorf("start_response(): header %s value %q has a control character (CR, LF or NUL would split the response)", name, value)
	}
	key := textproto.CanonicalMIMEHeaderKey(name)
	if hopByHop[key] {
		return "", "", fmt.Errorf("start_response(): hop-by-hop header %s is the server's to set (PEP 3333)", name)
	}
	return key, raw, nil
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

// pyType names the Python type a decoded marshal value came from.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case int64:
		return "int"
	case bool:
		return "bool"
	case marshal.Tuple:
		return "tuple"
	case []any:
		return "list"
	case map[any]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
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
