package forwarded

import "strings"

// parseForwarded parses Forwarded header values (RFC 7239, section 4)
// into elements, each a map of lower-case parameter names to values with
// quotes removed. It reports false for a malformed header, which is then
// ignored as a whole: a half-understood chain of proxies cannot be
// believed.
func parseForwarded(values []string) ([]map[string]string, bool) {
	var elems []map[string]string
	for _, v := range values {
		p := &fwParser{s: v}
		for {
			p.space()
			if p.done() {
				break
			}
			e := map[string]string{}
			for {
				p.space()
				name := strings.ToLower(p.token())
				if name == "" || !p.eat('=') {
					return nil, false
				}
				val, ok := p.value()
				if !ok {
					return nil, false
				}
				if _, dup := e[name]; dup {
					return nil, false
				}
				e[name] = val
				p.space()
				if !p.eat(';') {
					break
				}
			}
			elems = append(elems, e)
			p.space()
			if p.done() {
				break
			}
			if !p.eat(',') {
				return nil, false
			}
		}
	}
	return elems, true
}

type fwParser struct {
	s string
	i int
}

func (p *fwParser) done() bool { return p.i >= len(p.s) }

func (p *fwParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *fwParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fwParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted-string.
func (p *fwParser) value() (string, bool) {
	if !p.eat('"') {
		t := p.token()
		return t, t != ""
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			if p.i >= len(p.s) {
				return "", false
			}
			c = p.s[p.i]
			p.i++
		}
		b.WriteByte(c)
	}
	return "", false
}

// isTokenChar reports whether c may appear in an RFC 7230 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
