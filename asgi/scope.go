package asgi

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gowsgi/gowsgi/internal/asgiws"
	"github.com/gowsgi/gowsgi/internal/marshal"
)

// httpScope is the http connection scope of r, marshalled: every key of
// the ASGI HTTP spec but "asgi" and "state", which the worker adds. Its
// values are those of asgiws.Scope for the keys the two scopes share
// (TestHTTPScopeMatchesWebSocket), written straight into the bytes the
// Open frame carries, keys as interned constants: no map, no []any per
// header pair, no walk of them.
func (c *Container) httpScope(r *http.Request) marshal.Raw {
	b := make([]byte, 0, scopeSize(r))
	b = marshal.AppendDictStart(b)
	b = marshal.AppendKey(b, "type")
	b = marshal.AppendStr(b, "http")
	b = marshal.AppendKey(b, "http_version")
	if r.ProtoMajor == 2 {
		b = marshal.AppendStr(b, "2")
	} else {
		b = marshal.AppendStr(b, "1.1")
	}
	b = marshal.AppendKey(b, "scheme")
	if r.TLS != nil {
		b = marshal.AppendStr(b, "https")
	} else {
		b = marshal.AppendStr(b, "http")
	}
	b = marshal.AppendKey(b, "method")
	b = marshal.AppendText(b, strings.ToValidUTF8(r.Method, "\uFFFD"))
	b = marshal.AppendKey(b, "path")
	b = marshal.AppendText(b, strings.ToValidUTF8(r.URL.Path, "\uFFFD"))
	b = marshal.AppendKey(b, "raw_path")
	b = marshal.AppendBytesHeader(b, 0)
	n := len(b)
	b = append(b, r.URL.EscapedPath()...)
	putLen(b[n-4:], len(b)-n)
	b = marshal.AppendKey(b, "query_string")
	b = marshal.AppendBytesHeader(b, len(r.URL.RawQuery))
	b = append(b, r.URL.RawQuery...)
	b = marshal.AppendKey(b, "root_path")
	b = marshal.AppendText(b, strings.ToValidUTF8(c.cfg.Prefix, "\uFFFD"))
	b = marshal.AppendKey(b, "headers")
	b = appendHeaders(b, r)
	b = marshal.AppendKey(b, "client")
	b = appendHostPort(b, r.RemoteAddr)
	b = marshal.AppendKey(b, "server")
	b = appendServer(b, r)
	b = marshal.AppendKey(b, "extensions")
	b = marshal.AppendDictStart(b)
	b = marshal.AppendKey(b, "http.response.pathsend")
	b = marshal.AppendDictEnd(marshal.AppendDictStart(b))
	if trailersAllowed(r) {
		b = marshal.AppendKey(b, "http.response.trailers")
		b = marshal.AppendDictEnd(marshal.AppendDictStart(b))
	}
	if r.TLS != nil {
		b = marshal.AppendKey(b, "tls")
		b, _ = marshal.AppendValue(b, asgiws.TLS(r.TLS)) // strs made valid UTF-8, ints of 16 bits: no error
	}
	b = marshal.AppendDictEnd(b)
	return marshal.AppendDictEnd(b)
}

// scopeSize is about what r's scope takes, so that it is built in one
// allocation.
func scopeSize(r *http.Request) int {
	n := 320 + 2*len(r.URL.Path) + len(r.URL.RawQuery) + len(r.Host)
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + 12
		}
	}
	return n
}

func putLen(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
}

// appendHeaders appends r's headers as asgiws.Headers lists them: "host"
// first, then each header's values in order, names lower-cased, each pair
// a [name, value] list of bytes.
func appendHeaders(b []byte, r *http.Request) []byte {
	count := 0
	if r.Host != "" {
		count++
	}
	for _, values := range r.Header {
		count += len(values)
	}
	b = marshal.AppendList(b, count)
	if r.Host != "" {
		b = marshal.AppendList(b, 2)
		b = marshal.AppendBytesHeader(b, len("host"))
		b = append(b, "host"...)
		b = marshal.AppendBytesHeader(b, len(r.Host))
		b = append(b, r.Host...)
	}
	for name, values := range r.Header {
		for _, v := range values {
			b = marshal.AppendList(b, 2)
			b = marshal.AppendBytesHeader(b, len(name))
			for i := 0; i < len(name); i++ {
				c := name[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, c)
			}
			b = marshal.AppendBytesHeader(b, len(v))
			b = append(b, v...)
		}
	}
	return b
}

// appendHostPort appends [host, port] of addr, or None when it is not a
// host and a port (a Unix socket's peer).
func appendHostPort(b []byte, addr string) []byte {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return marshal.AppendNone(b)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 1<<31-1 {
		return marshal.AppendNone(b)
	}
	b = marshal.AppendList(b, 2)
	b = marshal.AppendText(b, strings.ToValidUTF8(host, "\uFFFD"))
	return marshal.AppendInt(b, int32(p))
}

// appendServer appends [host, port] of the listening address, [path, None]
// for a Unix socket, or None if r did not come through a net/http server.
func appendServer(b []byte, r *http.Request) []byte {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return marshal.AppendNone(b)
	}
	if ta, ok := a.(*net.TCPAddr); ok && ta.Port >= 0 && ta.Port <= 1<<16-1 {
		// What appendHostPort(a.String()) gives, without building that
		// string to split it again: the host as net.IP.String writes it
		// (IPv4 in IPv6 unmapped), with its zone.
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			var buf [48]byte
			host := ip.Unmap().WithZone(ta.Zone).AppendTo(buf[:0])
			b = marshal.AppendList(b, 2)
			b = marshal.AppendText(b, strings.ToValidUTF8(string(host), "\uFFFD"))
			return marshal.AppendInt(b, int32(ta.Port))
		}
	}
	if a.Network() == "unix" {
		b = marshal.AppendList(b, 2)
		b = marshal.AppendText(b, strings.ToValidUTF8(a.String(), "\uFFFD"))
		return marshal.AppendNone(b)
	}
	return appendHostPort(b, a.String())
}

// trailersAllowed reports whether the client takes trailers: HTTP/2 always
// does, HTTP/1.1 when it says "TE: trailers" (RFC 9110, 10.1.4).
func trailersAllowed(r *http.Request) bool {
	if r.ProtoMajor >= 2 {
		return true
	}
	for _, v := range r.Header.Values("Te") {
		for _, t := range strings.Split(v, ",") {
			t, _, _ = strings.Cut(t, ";")
			if strings.EqualFold(strings.TrimSpace(t), "trailers") {
				return true
			}
		}
	}
	return false
}

// isWebSocket reports a WebSocket handshake (RFC 6455): an HTTP/1.1 GET
// with "Upgrade: websocket".
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "websocket") {
				return true
			}
		}
	}
	return false
}
