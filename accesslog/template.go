package accesslog

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gowsgi/gowsgi/internal/environ"
)

// A Template is a line format in gunicorn's access_log_format syntax:
// Python %-formatting with a mapping, "%(NAME)s", whose names are
// gunicorn's atoms:
//
//	h  remote address          l  "-"                    u  user (basic auth)
//	t  [10/Oct/2025:13:55:36 +0000], when the response was done
//	r  request line, "GET /a?b=1 HTTP/1.1"
//	m  method                  U  path, without the query  q  query string
//	H  protocol                s  status                 B  body bytes
//	b  body bytes (gunicorn's: 0 for none, not "-")
//	f  Referer, or "-"         a  User-Agent, or "-"
//	T  seconds (whole)         M  milliseconds           D  microseconds
//	L  seconds, as 0.001234    p  "<PID>" of the server
//	{header}i  request header  {header}o  response header
//	{variable}e  WSGI environ variable (REMOTE_ADDR, wsgi.url_scheme, ...)
//
// A name that is none of these, and a header or variable that is absent,
// is "-", as in gunicorn; names in braces are case-insensitive. "%%" is a
// percent sign, and the conversion may be s or d. As gunicorn's, values
// have their double quotes escaped (\"); unlike gunicorn's, control bytes
// are escaped too (\x0a), so that no value can forge or break a line.
//
// The template is parsed once, by ParseTemplate; a line is appended
// without parsing or maps.
type Template struct {
	src   string
	parts []part
	pid   string
}

// A part is literal text, or an atom.
type part struct {
	lit  string
	atom byte   // 0 for literal text; a letter, or 'i', 'o', 'e' with name
	name string // of a header (canonical) or an environ variable
}

// ParseTemplate parses s, a gunicorn access_log_format. The error names
// what is wrong and where.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{src: s, pid: "<" + strconv.Itoa(os.Getpid()) + ">"}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '(' {
			return nil, fmt.Errorf("access log format %q: %% at %d is not %%(NAME)s or %%%%", s, i)
		}
		end := strings.IndexByte(s[i:], ')')
		if end < 0 || i+end+1 >= len(s) {
			return nil, fmt.Errorf("access log format %q: %%( at %d has no )s", s, i)
		}
		name, conv := s[i+2:i+end], s[i+end+1]
		if conv != 's' && conv != 'd' {
			return nil, fmt.Errorf("access log format %q: %%(%s)%c: the conversion must be s or d", s, name, conv)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, atomPart(name))
		i += end + 1
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	return t, nil
}

// atomPart is the part of the atom name.
func atomPart(name string) part {
	if len(name) >= 3 && name[0] == '{' {
		if j := strings.LastIndexByte(name, '}'); j == len(name)-2 {
			key, kind := name[1:j], name[j+1]
			switch kind {
			case 'i', 'o':
				return part{atom: kind, name: http.CanonicalHeaderKey(key)}
			case 'e':
				return part{atom: kind, name: strings.ToLower(key)}
			}
		}
		return part{atom: '-'}
	}
	if len(name) == 1 && strings.IndexByte("hlutrmUqHsBbfaTMDLp", name[0]) >= 0 {
		return part{atom: name[0]}
	}
	return part{atom: '-'} // gunicorn's SafeAtoms: unknown is "-"
}

// String returns the template as given to ParseTemplate.
func (t *Template) String() string { return t.src }

// Append appends rec's line to b, with a newline.
func (t *Template) Append(b []byte, rec *Record) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		if p.atom == 0 {
			b = append(b, p.lit...)
			continue
		}
		b = t.appendAtom(b, p, rec)
	}
	return append(b, '\n')
}

func (t *Template) appendAtom(b []byte, p *part, rec *Record) []byte {
	switch p.atom {
	case 'h':
		return appendValue(b, rec.RemoteAddr)
	case 'l':
		return append(b, '-')
	case 'u':
		return appendValue(b, rec.User)
	case 't':
		b = append(b, '[')
		b = rec.Start.Add(rec.Duration).AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
		return append(b, ']')
	case 'r':
		b = appendQuoted(b, rec.Method)
		b = append(b, ' ')
		b = appendQuoted(b, rec.URI)
		b = append(b, ' ')
		return appendQuoted(b, rec.Proto)
	case 'm':
		return appendQuoted(b, rec.Method)
	case 'U':
		return appendQuoted(b, rec.Path)
	case 'q':
		return appendQuoted(b, rec.Query)
	case 'H':
		return appendQuoted(b, rec.Proto)
	case 's':
		return strconv.AppendInt(b, int64(rec.Status), 10)
	case 'B', 'b':
		return strconv.AppendInt(b, rec.Bytes, 10)
	case 'f':
		return appendValue(b, rec.Referer)
	case 'a':
		return appendValue(b, rec.UserAgent)
	case 'T':
		return strconv.AppendInt(b, int64(rec.Duration/time.Second), 10)
	case 'M':
		return strconv.AppendInt(b, int64(rec.Duration/time.Millisecond), 10)
	case 'D':
		return strconv.AppendInt(b, int64(rec.Duration/time.Microsecond), 10)
	case 'L':
		us := int64(rec.Duration / time.Microsecond)
		b = strconv.AppendInt(b, us/1e6, 10)
		b = append(b, '.')
		var buf [8]byte
		frac := strconv.AppendInt(buf[:0], us%1e6+1e6, 10) // 1xxxxxx: six digits, zero-padded
		return append(b, frac[1:]...)
	case 'p':
		return append(b, t.pid...)
	case 'i':
		return appendValue(b, requestHeader(rec, p.name))
	case 'o':
		return appendValue(b, lastValue(rec.respHeader, p.name))
	case 'e':
		return appendValue(b, environValue(rec, p.name))
	}
	return append(b, '-')
}

// lastValue is the last value of the header name in h, as gunicorn's
// atoms keep the last of repeated headers; "" if none.
func lastValue(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// requestHeader is the request header name of rec, Host included (which
// net/http keeps apart).
func requestHeader(rec *Record, name string) string {
	if name == "Host" {
		return rec.Host
	}
	if rec.request == nil {
		return ""
	}
	return lastValue(rec.request.Header, name)
}

// environValue is the WSGI environ variable key (lowercased) of rec's
// request, as the app saw it, less a --prefix's SCRIPT_NAME split.
func environValue(rec *Record, key string) string {
	if rec.request == nil {
		return ""
	}
	s := &keySink{key: key}
	environ.Build(rec.request, "", rec.request.URL.Path, s)
	return s.value
}

// keySink keeps the value of one key, compared case-insensitively.
type keySink struct{ key, value string }

func (s *keySink) Add(k, v string) {
	if strings.EqualFold(k, s.key) {
		s.value = v
	}
}

// appendValue appends s quoted, or "-" if it is empty, as gunicorn's
// atoms that default to "-".
func appendValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendQuoted(b, s)
}

// appendQuoted appends s with double quotes escaped, as gunicorn's
// SafeAtoms, and control bytes as \xNN.
func appendQuoted(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			b = append(b, '\\', '"')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
