package proxyproto

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzRead checks that Read never panics, never reads past a header (what
// follows is left whole), and returns addresses only with a header.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\n\r\n",
		"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /",
		"PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n",
		"PROXY UNKNOWN\r\n",
		v2(1, 0x11, ip("192.0.2.1"), ip("198.51.100.2"), port(1), port(2)) + "GET /",
		v2(1, 0x21, ip("::1"), ip("::2"), port(1), port(2), []byte{1, 0, 2, 'h', '2'}),
		v2(0, 0),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := bufio.NewReaderSize(strings.NewReader(in), maxV1)
		h, found, err := Read(r)
		if !found && (h.Source != nil || h.Destination != nil) {
			t.Fatalf("addresses %v %v without a header", h.Source, h.Destination)
		}
		var me *MalformedError
		if err != nil && !errors.As(err, &me) && err != io.EOF && err != io.ErrUnexpectedEOF {
			t.Fatalf("error %v is neither malformed nor EOF", err)
		}
		if err != nil {
			return
		}
		rest, _ := io.ReadAll(r)
		if !strings.HasSuffix(in, string(rest)) || !found && string(rest) != in {
			t.Fatalf("left %q of %q", rest, in)
		}
		if found && (h.Source == nil) != (h.Destination == nil) {
			t.Fatalf("source %v, destination %v", h.Source, h.Destination)
		}
	})
}
