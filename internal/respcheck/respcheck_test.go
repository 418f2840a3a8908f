package respcheck

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestHeaders: what an app's headers become in an http.Header, and what
// is refused, as both containers see it.
func TestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       [][2]string
		want     http.Header
		declared int64
		err      string
	}{
		{"none", nil, http.Header{"Content-Type": nil}, -1, ""},
		{"repeated", [][2]string{{"set-cookie", "a"}, {"Set-Cookie", "b"}, {"content-type", "text/plain"}},
			http.Header{"Set-Cookie": {"a", "b"}, "Content-Type": {"text/plain"}}, -1, ""},
		{"repeated after others", [][2]string{{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}, {"x-b", "4"}},
			http.Header{"X-A": {"1", "3"}, "X-B": {"2", "4"}, "Content-Type": nil}, -1, ""},
		{"length", [][2]string{{"Content-Length", "5"}, {"content-length", "5"}},
			http.Header{"Content-Length": {"5"}, "Content-Type": nil}, 5, ""},
		{"two lengths", [][2]string{{"Content-Length", "5"}, {"Content-Length", "6"}}, nil, 5, `bad Content-Length "6"`},
		{"negative", [][2]string{{"Content-Length", "-1"}}, nil, -1, `bad Content-Length "-1"`},
		{"split", [][2]string{{"X-A", "a\r\nX-B: b"}}, nil, -1, "control character"},
		{"hop-by-hop", [][2]string{{"Connection", "close"}}, nil, -1, "the server's to set"},
		{"name", [][2]string{{"Bad Name", "x"}}, nil, -1, "not an HTTP token"},
	} {
		// Grow's room: none, too little, enough.
		for _, grow := range []int{-1, 1, len(tc.in)} {
			t.Run(fmt.Sprintf("%s/grow%d", tc.name, grow), func(t *testing.T) { checkHeaders(t, tc.in, grow, tc.want, tc.declared, tc.err) })
		}
	}
}

// checkHeaders adds in to an empty header, after Grow(grow) unless grow is
// negative, and checks the result or the error.
func checkHeaders(t *testing.T, in [][2]string, grow int, want http.Header, declared int64, wantErr string) {
	h := http.Header{}
	hs := NewHeaders(h)
	if grow >= 0 {
		hs.Grow(grow)
	}
	var err error
	for _, kv := range in {
		if err = hs.Add(kv[0], kv[1]); err != nil {
			break
		}
	}
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("err %v, want one saying %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	hs.Finish()
	if !reflect.DeepEqual(h, want) || hs.Declared() != declared {
		t.Errorf("got %v (declared %d), want %v (%d)", h, hs.Declared(), want, declared)
	}
}
