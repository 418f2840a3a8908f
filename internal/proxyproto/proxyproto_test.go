package proxyproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// v2 builds a v2 header: command, family and protocol, address bytes
// and TLV bytes after them.
func v2(cmd, famProto byte, addrs ...[]byte) string {
	var body []byte
	for _, a := range addrs {
		body = append(body, a...)
	}
	h := append([]byte(nil), v2Sig...)
	h = append(h, 0x20|cmd, famProto)
	h = binary.BigEndian.AppendUint16(h, uint16(len(body)))
	return string(append(h, body...))
}

func port(p uint16) []byte { return binary.BigEndian.AppendUint16(nil, p) }

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func TestRead(t *testing.T) {
	const req = "GET / HTTP/1.1\r\n\r\n"
	cases := []struct {
		name, in  string
		found     bool
		src, dst  string // "" for none
		malformed bool
	}{
		{"no header", req, false, "", "", false},
		{"POST", "POST / HTTP/1.1\r\n\r\n", false, "", "", false},
		{"TLS", "\x16\x03\x01\x00\xa5", false, "", "", false},
		{"h2c preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, "", "", false},
		{"PROXX", "PROXX / HTTP/1.1\r\n\r\n", false, "", "", false},
		{"v1 TCP4", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n" + req, true, "192.0.2.1:56324", "198.51.100.2:443", false},
		{"v1 TCP6", "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n" + req, true, "[2001:db8::1]:1", "[2001:db8::2]:65535", false},
		{"v1 UNKNOWN", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n" + req, true, "", "", false},
		{"v1 UNKNOWN bare", "PROXY UNKNOWN\r\n" + req, true, "", "", false},
		{"v1 TCP4 with v6", "PROXY TCP4 ::1 ::1 1 2\r\n", true, "", "", true},
		{"v1 TCP6 with v4", "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n", true, "", "", true},
		{"v1 bad port", "PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", true, "", "", true},
		{"v1 leading zero", "PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n", true, "", "", true},
		{"v1 sign", "PROXY TCP4 1.2.3.4 1.2.3.4 +80 2\r\n", true, "", "", true},
		{"v1 fields", "PROXY TCP4 1.2.3.4 1.2.3.4 80\r\n", true, "", "", true},
		{"v1 UDP4", "PROXY UDP4 1.2.3.4 1.2.3.4 80 81\r\n", true, "", "", true},
		{"v1 zone", "PROXY TCP6 fe80::1%eth0 ::1 80 81\r\n", true, "", "", true},
		{"v1 too long", "PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n", true, "", "", true},
		{"v1 LF only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + req, true, "", "", true},
		{"v2 TCP4", v2(1, 0x11, ip("192.0.2.1"), ip("198.51.100.2"), port(56324), port(443)) + req, true, "192.0.2.1:56324", "198.51.100.2:443", false},
		{"v2 TCP6", v2(1, 0x21, ip("2001:db8::1"), ip("2001:db8::2"), port(1), port(2)) + req, true, "[2001:db8::1]:1", "[2001:db8::2]:2", false},
		{"v2 TLVs", v2(1, 0x11, ip("192.0.2.1"), ip("198.51.100.2"), port(1), port(2), []byte{0x04, 0, 1, 'x'}) + req, true, "192.0.2.1:1", "198.51.100.2:2", false},
		{"v2 UDP4", v2(1, 0x12, ip("192.0.2.1"), ip("198.51.100.2"), port(1), port(2)) + req, true, "192.0.2.1:1", "198.51.100.2:2", false},
		{"v2 LOCAL", v2(0, 0x00) + req, true, "", "", false},
		{"v2 LOCAL with addresses", v2(0, 0x11, ip("192.0.2.1"), ip("198.51.100.2"), port(1), port(2)) + req, true, "", "", false},
		{"v2 unix", v2(1, 0x31, make([]byte, 216)) + req, true, "", "", false},
		{"v2 UNSPEC", v2(1, 0x00) + req, true, "", "", false},
		{"v2 short", v2(1, 0x11, ip("192.0.2.1")), true, "", "", true},
		{"v2 version 3", strings.Replace(v2(1, 0x11), "\x21", "\x31", 1), true, "", "", true},
		{"v2 command 2", v2(2, 0x11), true, "", "", true},
		{"v2 family 4", v2(1, 0x41), true, "", "", true},
		{"v2 too long", v2(1, 0x11, make([]byte, maxV2Body+1)), true, "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), maxV1)
			h, found, err := Read(r)
			var me *MalformedError
			if tc.malformed != errors.As(err, &me) || found != tc.found || (!tc.malformed && err != nil) {
				t.Fatalf("Read: %+v, %v, %v; want found %v, malformed %v", h, found, err, tc.found, tc.malformed)
			}
			if tc.malformed {
				return
			}
			if got := addrString(h.Source); got != tc.src {
				t.Errorf("source %q; want %q", got, tc.src)
			}
			if got := addrString(h.Destination); got != tc.dst {
				t.Errorf("destination %q; want %q", got, tc.dst)
			}
			// What follows the header is left to read, whole.
			rest, _ := io.ReadAll(r)
			want := req
			if !found {
				want = tc.in
			}
			if string(rest) != want {
				t.Errorf("left %q after the header; want %q", rest, want)
			}
		})
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// TestReadShort checks that a request shorter than a header's signature
// is not waited on: the bytes it sent tell it is no header.
func TestReadShort(t *testing.T) {
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go c.Write([]byte("GE"))
	_, found, err := Read(bufio.NewReader(s))
	if found || err != nil {
		t.Errorf("Read: found %v, %v; want no header, no error", found, err)
	}
}

// serve serves HTTP on a Listener allowing allow, answering each request
// with its RemoteAddr, and returns its address.
func serve(t *testing.T, allow bool, timeout time.Duration) string {
	t.Helper()
	return serveVersion(t, allow, timeout, 0)
}

func serveVersion(t *testing.T, allow bool, timeout time.Duration, version int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl := &Listener{Listener: l, Allow: func(net.Addr) bool { return allow }, Timeout: timeout, Version: version}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr)
	})}
	go srv.Serve(pl)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// roundTrip writes header and a request on a new connection to addr, and
// returns the status and body of the response.
func roundTrip(t *testing.T, addr, header string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, header+"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestListener serves HTTP through a Listener to real TCP clients that
// write v1 and v2 headers, none, bad ones, and from peers not allowed.
func TestListener(t *testing.T) {
	allowed, refused := serve(t, true, 0), serve(t, false, 0)
	only1, only2 := serveVersion(t, true, 0, 1), serveVersion(t, true, 0, 2)
	cases := []struct {
		name, addr, header string
		status             int
		body               string // "" for the client's own address
	}{
		{"v1", allowed, "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", 200, "192.0.2.1:56324"},
		{"v1 TCP6", allowed, "PROXY TCP6 2001:db8::1 ::1 7 443\r\n", 200, "[2001:db8::1]:7"},
		{"v2", allowed, v2(1, 0x11, ip("192.0.2.9"), ip("198.51.100.2"), port(4000), port(443)), 200, "192.0.2.9:4000"},
		{"v2 TCP6", allowed, v2(1, 0x21, ip("2001:db8::9"), ip("::1"), port(4001), port(443)), 200, "[2001:db8::9]:4001"},
		{"v2 LOCAL", allowed, v2(0, 0), 200, ""},
		{"v1 UNKNOWN", allowed, "PROXY UNKNOWN\r\n", 200, ""},
		{"none", allowed, "", 200, ""},
		{"none, not allowed", refused, "", 200, ""},
		{"v1 not allowed", refused, "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", 403, "Request forbidden"},
		{"v2 not allowed", refused, v2(1, 0x11, ip("192.0.2.9"), ip("198.51.100.2"), port(4000), port(443)), 403, "Request forbidden"},
		{"v1 where only v1", only1, "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", 200, "192.0.2.1:56324"},
		{"v2 where only v1", only1, v2(0, 0), 400, "Invalid PROXY header\n"},
		{"v1 where only v2", only2, "PROXY UNKNOWN\r\n", 400, "Invalid PROXY header\n"},
		{"v2 where only v2", only2, v2(1, 0x11, ip("192.0.2.9"), ip("198.51.100.2"), port(4000), port(443)), 200, "192.0.2.9:4000"},
		{"malformed", allowed, "PROXY TCP4 nonsense\r\n", 400, "Invalid PROXY header\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := roundTrip(t, tc.addr, tc.header)
			if tc.body == "" {
				if host, _, err := net.SplitHostPort(body); err != nil || host != "127.0.0.1" {
					t.Errorf("got %d %q; want the client's own address", status, body)
				}
				return
			}
			if status != tc.status || body != tc.body {
				t.Errorf("got %d %q; want %d %q", status, body, tc.status, tc.body)
			}
		})
	}
}

// TestListenerTimeout checks that a client that starts a header and
// stops is closed after Timeout, without an answer.
func TestListenerTimeout(t *testing.T) {
	addr := serve(t, true, 50*time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "PROXY TCP4 1.2.3.4")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("read %d, %v; want the connection closed", n, err)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("the server did not close the connection within 10 s")
	}
}
