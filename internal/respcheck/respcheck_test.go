package respcheck

import (
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
		{"length", [][2]string{{"Content-Length", "5"}, {"content-length", "5"}},
			http.Header{"Content-Length": {"5"}, "Content-Type": nil}, 5, ""},
		{"two lengths", [][2]string{{"Content-Length", "5"}, {"Content-Length", "6"}}, nil, 5, `bad Content-Length "6"`},
		{"negative", [][2]string{{"Content-Length", "-1"}}, nil, -1, `bad Content-Length "-1"`},
		{"split", [][2]string{{"X-A", "a\r\nX-B: b"}}, nil, -1, "control character"},
		{"hop-by-hop", [][2]string{{"Connection", "close"}}, nil, -1, "the server's to set"},
		{"name", [][2]string{{"Bad Name", "x"}}, nil, -1, "not an HTTP token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			hs := NewHeaders(h)
			var err error
			for _, kv := range tc.in {
				if err = hs.Add(kv[0], kv[1]); err != nil {
					break
				}
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hs.Finish()
			if !reflect.DeepEqual(h, tc.want) || hs.Declared() != tc.declared {
				t.Errorf("got %v (declared %d), want %v (%d)", h, hs.Declared(), tc.want, tc.declared)
			}
		})
	}
}
