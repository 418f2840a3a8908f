package asgi

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/gowsgi/gowsgi/internal/marshal"
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
		checkAddHeaders(t, name, v, v)
		if pairs, ok := asPairs(v); ok {
			// As the worker's decoder gives them.
			checkAddHeaders(t, name+" (Pairs)", v, pairs)
			checkAddHeaders(t, name+" (Pairs, eachHeader)", pairs, pairs)
		}
	}
}

// checkAddHeaders checks addHeaders(v) against eachHeader(like, Headers.Add).
func checkAddHeaders(t *testing.T, name string, like, v any) {
	t.Helper()
	want, got := http.Header{}, http.Header{}
	ws, gs := respcheck.NewHeaders(want), respcheck.NewHeaders(got)
	werr, gerr := eachHeader(like, ws.Add), addHeaders(v, &gs)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Errorf("%s: error %v, want %v", name, gerr, werr)
		return
	}
	if werr == nil && (!reflect.DeepEqual(got, want) || gs.Declared() != ws.Declared()) {
		t.Errorf("%s: %v (declared %d), want %v (%d)", name, got, gs.Declared(), want, ws.Declared())
	}
}

// asPairs is a list of [name, value] pairs of bytes as marshal.Pairs.
func asPairs(v any) (marshal.Pairs, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	var out marshal.Pairs
	for _, item := range list {
		name, value, err := headerPair(item)
		if err != nil {
			return nil, false
		}
		out = append(out, [2][]byte{name, value})
	}
	return out, true
}
