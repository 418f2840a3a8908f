package marshal

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// pythonRepr returns repr(marshal.loads(b)) as a real Python computes it
// (/usr/bin/python3), with dicts' keys sorted.
func pythonRepr(t *testing.T, b []byte) string {
	t.Helper()
	prog := `import marshal, sys, pprint
v = marshal.loads(bytes.fromhex(sys.argv[1]))
sys.stdout.write(pprint.pformat(v, width=1000, sort_dicts=True))`
	out, err := exec.Command(python, "-c", prog, hex.EncodeToString(b)).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			t.Fatalf("python rejects %x: %s", b, out)
		}
		t.Skipf("%s: %v", python, err)
	}
	return string(out)
}

func TestAppendValuePython(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "None"},
		{true, "True"},
		{int(-3), "-3"},
		{int64(1 << 30), "1073741824"},
		{"/caf\u00e9/\u20ac", "'/café/€'"},
		{[]byte("a\x00\xff"), `b'a\x00\xff'`},
		{[][2][]byte{{[]byte("host"), []byte("x")}, {[]byte("a"), []byte("1")}, {[]byte("a"), []byte("2")}},
			"[(b'host', b'x'), (b'a', b'1'), (b'a', b'2')]"},
		{Tuple{"127.0.0.1", 8000}, "('127.0.0.1', 8000)"},
		{map[string]any{"type": "http.request", "body": []byte("hi"), "more_body": false,
			"extensions": map[string]any{"http.response.pathsend": map[string]any{}}, "list": []any{"1.1", nil}},
			"{'body': b'hi', 'extensions': {'http.response.pathsend': {}}, 'list': ['1.1', None], 'more_body': False, 'type': 'http.request'}"},
		{named{"a": named{"b": []string{"x"}}}, "{'a': {'b': ['x']}}"},
		{strings.Repeat("x", 300), "'" + strings.Repeat("x", 300) + "'"},
	}
	for _, tc := range cases {
		b, err := AppendValue(nil, tc.v)
		if err != nil {
			t.Errorf("%#v: %v", tc.v, err)
			continue
		}
		if got := pythonRepr(t, b); got != tc.want {
			t.Errorf("%#v: Python reads %s, want %s", tc.v, got, tc.want)
		}
	}
}

type named map[string]any

func TestAppendValueRefuses(t *testing.T) {
	for _, v := range []any{int64(1 << 40), "\xff", 1.5, map[string]any{"k": struct{}{}}, []any{uint8(1)}} {
		if _, err := AppendValue(nil, v); err == nil {
			t.Errorf("%#v: encoded, want an error", v)
		}
	}
}
