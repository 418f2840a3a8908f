package asgi

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/gowsgi/gowsgi/internal/respcheck"
)

// TestAddHeaders: addHeaders puts what eachHeader(v, Headers.Add) does into
// the header, and refuses what it refuses with the same error.
func TestAddHeaders(t *testing.T) {
	pair := func(name, value string) any { return []any{[]byte(name), []byte(value)} }
	for name, v := range map[string]any{
		"none":     nil,
		"empty":    []any{},
		"hello":    []any{pair("content-type", "text/plain"), pair("content-length", "14")},
		"repeated": []any{pair("set-cookie", "a=1"), pair("x-other", ""), pair("set-cookie", "b=2"), pair("vary", "accept")},
		"odd name": []any{pair("x-Mixed_Case", "v"), pair("content-type", "a"), pair("content-type", "b")},
		"bad name": []any{pair("content-type", "a"), pair("bad name", "x")},
		"ctl":      []any{pair("content-type", "a\r\nx: y")},
		"length":   []any{pair("content-length", "1"), pair("content-length", "2")},
		"hop":      []any{pair("connection", "close")},
		"not list": "x",
		"not pair": []any{[]any{[]byte("a")}},
		"str name": []any{[]any{"a", []byte("b")}},
	} {
		want, got := http.Header{}, http.Header{}
		ws, gs := respcheck.NewHeaders(want), respcheck.NewHeaders(got)
		werr, gerr := eachHeader(v, ws.Add), addHeaders(v, &gs)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Errorf("%s: error %v, want %v", name, gerr, werr)
			continue
		}
		if werr == nil && (!reflect.DeepEqual(got, want) || gs.Declared() != ws.Declared()) {
			t.Errorf("%s: %v (declared %d), want %v (%d)", name, got, gs.Declared(), want, ws.Declared())
		}
	}
}
