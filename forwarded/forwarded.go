// Package forwarded believes what trusted reverse proxies say about the
// client: an http.Handler middleware that, for a request whose peer is a
// trusted proxy, takes the client's address, scheme and host from the
// RFC 7239 Forwarded header or, without it, from X-Forwarded-For,
// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Port. The next
// handler sees a shallow copy of the request with RemoteAddr, Host and TLS
// rewritten; a request from any other peer passes through untouched, so
// that a client cannot claim another address or a secure scheme by sending
// these headers.
//
// The port the client connected to is the Host's (a WSGI server's
// SERVER_PORT): Forwarded's host= may carry one, and X-Forwarded-Port
// replaces that of the Host (or of X-Forwarded-Host). The Host then names
// the port unless it is the scheme's default (80 for http, 443 for https),
// as a browser writes it.
//
// The client is the rightmost address in the chain that is not a trusted
// proxy: each proxy appends the address it saw, and only those appended by
// trusted proxies can be believed. Headers themselves are left as they are.
//
// It is one of the four packages that gowsgi serve composes around a
// wsgi.Container, and a Go program composes the same way (see the wsgi
// package's Example (middleware)): forwarded, accesslog and static in front
// of it, in that order, and admin beside it, on an address of its own.
package forwarded

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Trusted is a set of proxy addresses. Its zero value trusts no one.
type Trusted struct {
	prefixes []netip.Prefix
	all      bool
}

// ParseTrusted parses proxy addresses: IPs (127.0.0.1, ::1) and CIDRs
// (10.0.0.0/8, fd00::/8); "*" trusts every peer. The error names the
// entry that is neither.
func ParseTrusted(entries []string) (Trusted, error) {
	var t Trusted
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case e == "*":
			t.all = true
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return Trusted{}, fmt.Errorf("forwarded: %q is not an IP address or CIDR", e)
			}
			t.prefixes = append(t.prefixes, p.Masked())
		default:
			a, err := netip.ParseAddr(e)
			if err != nil {
				return Trusted{}, fmt.Errorf("forwarded: %q is not an IP address or CIDR", e)
			}
			a = a.WithZone("")
			t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return t, nil
}

// Contains reports whether a is a trusted proxy. An IPv4-mapped IPv6
// address counts as its IPv4 address.
func (t Trusted) Contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	if t.all {
		return true
	}
	a = a.Unmap().WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Handler returns a handler that rewrites requests from trusted peers as
// the package doc says, then calls next. A peer on a unix socket (whose
// RemoteAddr is not an IP address and port) is a local process, such as a
// proxy on the same host, and is trusted.
func Handler(next http.Handler, trusted Trusted) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := client(r, trusted); ok {
			r = c.apply(r)
		}
		next.ServeHTTP(w, r)
	})
}

// hop is what a trusted proxy says about the client.
type hop struct {
	addr  netip.Addr // invalid if unknown
	port  string
	proto string // "http", "https" or ""
	host  string
	// serverPort is the port the client connected to (X-Forwarded-Port),
	// in decimal; "" if unknown.
	serverPort string
}

// client returns what the proxies say about r's client, if r's peer is
// trusted and says anything.
func client(r *http.Request, trusted Trusted) (hop, bool) {
	if !peerTrusted(r.RemoteAddr, trusted) {
		return hop{}, false
	}
	if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		return fromForwarded(fw, trusted)
	}
	return fromXForwarded(r.Header, trusted)
}

func peerTrusted(remote string, trusted Trusted) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return !strings.Contains(remote, ":") // a unix socket peer: "@" or ""
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return trusted.Contains(a)
}

// fromXForwarded reads X-Forwarded-For, -Proto and -Host.
func fromXForwarded(h http.Header, trusted Trusted) (hop, bool) {
	var c hop
	found := false
	fors := splitList(h.Values("X-Forwarded-For"))
	i := -1
	if len(fors) > 0 {
		i = rightmostUntrusted(len(fors), func(i int) netip.Addr { a, _ := parseNode(fors[i], false); return a }, trusted)
		if i >= 0 {
			c.addr, c.port = parseNode(fors[i], false)
			found = true
		}
	}
	// A list of schemes or hosts, one per hop, is read at the client's
	// hop; otherwise the last value, which the nearest proxy set, counts.
	pick := func(vs []string) string {
		switch {
		case len(vs) == 0:
			return ""
		case len(vs) == len(fors) && i >= 0:
			return vs[i]
		}
		return vs[len(vs)-1]
	}
	if p := scheme(pick(splitList(h.Values("X-Forwarded-Proto")))); p != "" {
		c.proto, found = p, true
	}
	if host := pick(splitList(h.Values("X-Forwarded-Host"))); validHost(host) {
		c.host, found = host, true
	}
	if port, ok := parsePort(pick(splitList(h.Values("X-Forwarded-Port")))); ok {
		c.serverPort, found = port, true
	}
	return c, found
}

// fromForwarded reads RFC 7239 Forwarded elements: the client's element
// (its for=, proto= and host=) is the rightmost whose for= is not a
// trusted proxy.
func fromForwarded(values []string, trusted Trusted) (hop, bool) {
	elems, ok := parseForwarded(values)
	if !ok || len(elems) == 0 {
		return hop{}, false
	}
	i := rightmostUntrusted(len(elems), func(i int) netip.Addr {
		a, _ := parseNode(elems[i]["for"], true)
		return a
	}, trusted)
	if i < 0 {
		// No address is known, but the nearest proxy's scheme and host
		// are.
		i = len(elems) - 1
	}
	e := elems[i]
	var c hop
	c.addr, c.port = parseNode(e["for"], true)
	c.proto = scheme(e["proto"])
	if validHost(e["host"]) {
		c.host = e["host"]
	}
	return c, c.addr.IsValid() || c.proto != "" || c.host != ""
}

// rightmostUntrusted walks the hops from the nearest proxy back towards
// the client while they are trusted proxies, and returns the index of the
// first that is not. An entry that is not an address ends the walk: the
// hop just after it (a trusted proxy) is the furthest known, so that one is
// returned; -1 if there is none.
func rightmostUntrusted(n int, addr func(int) netip.Addr, trusted Trusted) int {
	for i := n - 1; i >= 0; i-- {
		a := addr(i)
		if !a.IsValid() {
			if i == n-1 {
				return -1
			}
			return i + 1
		}
		if i == 0 || !trusted.Contains(a) {
			return i
		}
	}
	return -1
}

// apply returns a shallow copy of r that carries c.
func (c hop) apply(r *http.Request) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	if c.addr.IsValid() {
		port := c.port
		if port == "" {
			port = "0" // unknown: the proxy did not say
		}
		r2.RemoteAddr = net.JoinHostPort(c.addr.Unmap().String(), port)
	}
	if c.host != "" {
		r2.Host = c.host
	}
	switch c.proto {
	case "https":
		if r2.TLS == nil {
			r2.TLS = new(tls.ConnectionState)
		}
	case "http":
		r2.TLS = nil
	}
	if c.serverPort != "" && r2.Host != "" {
		r2.Host = withPort(r2.Host, c.serverPort, r2.TLS != nil)
	}
	return r2
}

// withPort returns host (a Host header, maybe with a port) with port
// instead, or without one if port is the default of the scheme (https if
// secure).
func withPort(host, port string, secure bool) string {
	name := host
	if strings.HasPrefix(host, "[") {
		if i := strings.LastIndexByte(host, ']'); i > 0 {
			name = host[:i+1]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name = host[:i]
	}
	if secure && port == "443" || !secure && port == "80" {
		return name
	}
	return name + ":" + port
}

// parsePort returns a port number, 1 to 65535, in canonical decimal, or
// false if s is not one.
func parsePort(s string) (string, bool) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return "", false
	}
	return strconv.Itoa(n), true
}

// scheme returns http or https for a forwarded protocol, or "" for
// anything else.
func scheme(proto string) string {
	switch strings.ToLower(strings.TrimSpace(proto)) {
	case "https", "wss":
		return "https"
	case "http", "ws":
		return "http"
	}
	return ""
}

// splitList splits comma-separated header values.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseNode parses a node: an IPv4 address, an IPv6 address (bracketed
// when rfc7239, which may then add a port), or an address and port as
// some proxies write in X-Forwarded-For. An obfuscated or "unknown" node
// gives an invalid address.
func parseNode(s string, rfc7239 bool) (netip.Addr, string) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil && (!rfc7239 || a.Is4()) {
		return a.WithZone(""), ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone(""), fmt.Sprint(ap.Port())
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.WithZone(""), ""
		}
	}
	return netip.Addr{}, ""
}

// validHost reports whether h may be a Host header: a host name or
// address, maybe with a port, and nothing else.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:[]%", c) >= 0:
		default:
			return false
		}
	}
	return true
}
