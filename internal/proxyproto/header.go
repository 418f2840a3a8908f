package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// A Header is a PROXY header's content.
type Header struct {
	Version int // 1 or 2

	// Source and Destination are the client's and the server's addresses
	// (*net.TCPAddr, or *net.UDPAddr for v2 over UDP); nil for a v1
	// UNKNOWN, a v2 LOCAL, and v2's unix and unspecified families, whose
	// connections keep the peer's.
	Source, Destination net.Addr
}

// The limits of a header: a v1 line is at most 107 bytes, CRLF included;
// a v2 header's addresses and TLVs are bounded here at maxV2Body (the
// protocol allows 65535), more than AWS's and GCP's TLVs need.
const (
	maxV1     = 107
	maxV2Body = 4096
)

// v2Sig is the 12 bytes a v2 header starts with.
var v2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// v1Prefix is what a v1 header starts with.
var v1Prefix = []byte("PROXY ")

// Read reads a header from r, if one is there: it peeks at the first
// bytes and reads nothing from a connection that starts otherwise (found
// false, nil error). A header that starts as one and is not is a
// *MalformedError. It reads at most one header's bytes.
func Read(r *bufio.Reader) (h Header, found bool, err error) {
	switch kind, err := detect(r); {
	case err != nil:
		return Header{}, false, err
	case kind == 1:
		h, err = readV1(r)
		return h, true, err
	case kind == 2:
		h, err = readV2(r)
		return h, true, err
	}
	return Header{}, false, nil
}

// detect peeks until the bytes buffered tell a header (1, 2) from
// anything else (0), as soon as they differ from both prefixes, so that a
// short request ("GET / HTTP/1.0" sent slowly) is not waited on. An error
// before that (EOF, the deadline) is returned.
func detect(r *bufio.Reader) (int, error) {
	for n := 1; n <= len(v2Sig); n++ {
		if _, err := r.Peek(n); err != nil {
			return 0, err
		}
		b, _ := r.Peek(min(r.Buffered(), len(v2Sig)))
		switch {
		case bytes.HasPrefix(b, v1Prefix):
			return 1, nil
		case bytes.HasPrefix(b, v2Sig):
			return 2, nil
		case !maybe(b):
			return 0, nil
		}
		n = len(b)
	}
	return 0, nil // not reached: 12 bytes are v2Sig or not
}

// maybe reports whether b is the start of either header's prefix.
func maybe(b []byte) bool {
	return len(b) <= len(v1Prefix) && bytes.HasPrefix(v1Prefix, b) ||
		len(b) <= len(v2Sig) && bytes.HasPrefix(v2Sig, b)
}

// readV1 reads "PROXY TCP4 SRC DST SPORT DPORT\r\n" (or TCP6, or UNKNOWN
// with anything up to the CRLF).
func readV1(r *bufio.Reader) (Header, error) {
	var line string
	for {
		b, _ := r.Peek(min(r.Buffered(), maxV1))
		if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
			line = string(b[:i])
			r.Discard(i + 2)
			break
		}
		if len(b) >= maxV1 {
			return Header{}, &MalformedError{"v1 line longer than 107 bytes"}
		}
		if _, err := r.Peek(len(b) + 1); err != nil {
			return Header{}, err
		}
	}
	fields := strings.Split(line, " ")
	if len(fields) >= 2 && fields[1] == "UNKNOWN" {
		return Header{Version: 1}, nil
	}
	if len(fields) != 6 {
		return Header{}, &MalformedError{strconv.Quote(line) + " is not PROXY PROTO SRC DST SPORT DPORT"}
	}
	var want4 bool
	switch fields[1] {
	case "TCP4":
		want4 = true
	case "TCP6":
	default:
		return Header{}, &MalformedError{"v1 protocol " + strconv.Quote(fields[1]) + " is not TCP4, TCP6 or UNKNOWN"}
	}
	src, err1 := v1Addr(fields[2], fields[4], want4)
	dst, err2 := v1Addr(fields[3], fields[5], want4)
	if err1 != nil || err2 != nil {
		return Header{}, &MalformedError{"bad address or port in " + strconv.Quote(line)}
	}
	return Header{Version: 1, Source: src, Destination: dst}, nil
}

// v1Addr parses a v1 address and port: an address of the family, a port
// in decimal without leading zeros or sign.
func v1Addr(addr, port string, want4 bool) (*net.TCPAddr, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() != want4 || a.Zone() != "" {
		return nil, strconv.ErrSyntax
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || strconv.FormatUint(p, 10) != port {
		return nil, strconv.ErrSyntax
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(p))), nil
}

// readV2 reads the binary header: the signature, version and command,
// family and protocol, a length, the addresses, TLVs (skipped).
func readV2(r *bufio.Reader) (Header, error) {
	head, err := r.Peek(16)
	if err != nil {
		return Header{}, err
	}
	verCmd, famProto := head[12], head[13]
	n := int(binary.BigEndian.Uint16(head[14:16]))
	if verCmd>>4 != 2 {
		return Header{}, &MalformedError{"v2 version " + strconv.Itoa(int(verCmd>>4)) + " is not 2"}
	}
	if n > maxV2Body {
		return Header{}, &MalformedError{"v2 length " + strconv.Itoa(n) + " is over " + strconv.Itoa(maxV2Body)}
	}
	cmd := verCmd & 0xf
	if cmd > 1 {
		return Header{}, &MalformedError{"v2 command " + strconv.Itoa(int(cmd)) + " is not LOCAL or PROXY"}
	}
	if _, err := r.Discard(16); err != nil {
		return Header{}, err
	}
	body := make([]byte, n)
	if _, err := readFull(r, body); err != nil {
		return Header{}, err
	}
	h := Header{Version: 2}
	if cmd == 0 { // LOCAL: the proxy's own connection, as a health check
		return h, nil
	}
	var size int
	switch famProto >> 4 {
	case 1:
		size = 4
	case 2:
		size = 16
	case 0, 3: // unspecified, unix: keep the peer's
		return h, nil
	default:
		return Header{}, &MalformedError{"v2 address family " + strconv.Itoa(int(famProto>>4)) + " is unknown"}
	}
	proto := famProto & 0xf
	if proto != 1 && proto != 2 {
		return h, nil // unspecified transport
	}
	if n < 2*size+4 {
		return Header{}, &MalformedError{"v2 length " + strconv.Itoa(n) + " is too short for its addresses"}
	}
	src, _ := netip.AddrFromSlice(body[:size])
	dst, _ := netip.AddrFromSlice(body[size : 2*size])
	sp := binary.BigEndian.Uint16(body[2*size:])
	dp := binary.BigEndian.Uint16(body[2*size+2:])
	if proto == 2 {
		h.Source = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, sp))
		h.Destination = net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, dp))
	} else {
		h.Source = net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, sp))
		h.Destination = net.TCPAddrFromAddrPort(netip.AddrPortFrom(dst, dp))
	}
	return h, nil
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
