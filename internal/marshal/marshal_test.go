package marshal

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

const python = "/usr/bin/python3"

// pythonDumps returns marshal.dumps(expr) as computed by a real Python.
func pythonDumps(t *testing.T, expr string) []byte {
	t.Helper()
	out, err := exec.Command(python, "-c", "import marshal,sys; sys.stdout.write(marshal.dumps("+expr+").hex())").Output()
	if err != nil {
		t.Skipf("%s: %v", python, err)
	}
	b, err := hex.DecodeString(string(out))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodePython(t *testing.T) {
	cases := []struct {
		expr string
		want any
	}{
		{`None`, nil},
		{`True`, true},
		{`-7`, int64(-7)},
		{`2**40`, int64(1 << 40)},
		{`-(2**62)`, int64(-1 << 62)},
		{`"200 OK"`, "200 OK"},
		{`"caf\u00e9 \u20ac"`, "café €"},
		{`b"\x00\xff"`, []byte{0, 0xff}},
		{`("200 OK", [("Content-Type", "text/plain"), ("X-A", "1")])`,
			Tuple{"200 OK", []any{Tuple{"Content-Type", "text/plain"}, Tuple{"X-A", "1"}}}},
		// The same object twice is written once and then referenced.
		{`(lambda s: [s, s, (s,)])("shared-" + "x" * 10)`, []any{"shared-xxxxxxxxxx", "shared-xxxxxxxxxx", Tuple{"shared-xxxxxxxxxx"}}},
		{`{"pid": 12, "version": "3.11"}`, map[any]any{"pid": int64(12), "version": "3.11"}},
		{`tuple(range(300))`, nil}, // checked by length below
	}
	for _, tc := range cases {
		got, err := Decode(pythonDumps(t, tc.expr))
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if tc.expr == `tuple(range(300))` {
			if tup, ok := got.(Tuple); !ok || len(tup) != 300 || tup[299] != int64(299) {
				t.Errorf("%s: %v", tc.expr, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.expr, got, tc.want)
		}
	}
}

// TestEncodePython has a real Python load what Go encodes.
func TestEncodePython(t *testing.T) {
	var b []byte
	b = AppendTuple(b, 6)
	b = AppendDictStart(b)
	b = AppendStr(AppendStr(b, "PATH_INFO"), "/caf\xc3\xa9")
	b = AppendStr(AppendStr(b, "LONG"), strings.Repeat("a", 300))
	b = AppendStr(AppendStr(b, "LATIN"), strings.Repeat("\xe9", 300))
	b = AppendDictEnd(b)
	b = AppendBytes(b, []byte("body\x00"))
	b = AppendBool(b, true)
	b = AppendNone(b)
	b = AppendInt(b, -5)
	b = AppendTuple(b, 0)
	script := `import marshal,sys
v = marshal.loads(bytes.fromhex(sys.argv[1]))
assert v == ({"PATH_INFO": "/caf\u00c3\u00a9", "LONG": "a" * 300, "LATIN": "\u00e9" * 300},
             b"body\x00", True, None, -5, ()), v
print("ok")`
	out, err := exec.Command(python, "-c", script, hex.EncodeToString(b)).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("ok")) {
		t.Fatalf("%v: %s", err, out)
	}
}

func TestDecodeHostile(t *testing.T) {
	cases := map[string][]byte{
		"empty":             {},
		"truncated str":     {'a', 10, 0, 0, 0, 'x'},
		"huge bytes":        {'s', 0xff, 0xff, 0xff, 0x7f},
		"huge tuple":        {'(', 0xff, 0xff, 0xff, 0x7f, 'N'},
		"negative length":   {'s', 0xff, 0xff, 0xff, 0xff},
		"bad ref":           {'r', 5, 0, 0, 0},
		"unknown type":      {'g'},
		"trailing":          {'N', 'N'},
		"unterminated dict": {'{', 'z', 1, 'k', 'N'},
		"list key":          {'{', '[', 0, 0, 0, 0, 'N', '0'},
		"non-ascii in z":    {'z', 1, 0xe9},
		"deep":              bytes.Repeat([]byte{')', 1}, 100),
		"long int":          {'l', 9, 0, 0, 0},
	}
	for name, in := range cases {
		if v, err := Decode(in); err == nil {
			t.Errorf("%s: decoded %#v, want an error", name, v)
		}
	}
}

func TestLatin1(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"caf\u00e9", "caf\xe9", true},
		{"\u20ac", "", false},
	} {
		got, ok := Latin1(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Latin1(%q) = %q, %v", tc.in, got, ok)
		}
	}
}

// FuzzDecode: no input may crash, hang or over-allocate the decoder.
func FuzzDecode(f *testing.F) {
	for _, seed := range [][]byte{
		{'N'}, {')', 2, 'z', 1, 'a', 'N'}, {'{', 'z', 1, 'k', 'T', '0'},
		{'r', 0, 0, 0, 0}, {0xa9, 1, 0, 0, 0, 'x'}, {'(', 0xff, 0xff, 0xff, 0x7f},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		Decode(in)
		DecodeOwned(in)
	})
}

func TestDecodeOwned(t *testing.T) {
	// A message as /usr/bin/python3's marshal.dumps writes it (version 4, with
	// references): {'type': 'http.response.start', 'status': 200,
	// 'headers': [(b'a', b'b'), (b'a', b'b')], 'trailers': False},
	// the second pair a reference to the first.
	p := []byte("\xfb\xda\x04type\xfa\x13http.response.start\xda\x06status\xe9\xc8\x00\x00\x00\xda\x07headers[\x02\x00\x00\x00\xa9\x02\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00br\x06\x00\x00\x00\xda\x08trailersF0")
	v, err := DecodeOwned(p)
	if err != nil {
		t.Fatal(err)
	}
	pair := [2][]byte{[]byte("a"), []byte("b")}
	want := map[string]any{"type": "http.response.start", "status": int64(200),
		"headers": Pairs{pair, pair}, "trailers": false}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("DecodeOwned = %#v, want %#v", v, want)
	}
	for i := range p {
		p[i] = 0 // the result must not alias p
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("after p was overwritten: %#v", v)
	}
	if _, err := DecodeOwned([]byte("{i\x01\x00\x00\x00N0")); err == nil {
		t.Error("a dict with an int key decoded without error")
	}
}

func TestOwnedDecoderPair(t *testing.T) {
	// (300, {...}) as /usr/bin/python3's marshal.dumps writes it: the
	// int is flagged (refs[0]), so the message's reference to its first
	// header pair is refs[8]. flagged is the same with the tuple flagged
	// too, which shifts every reference by one.
	plain := []byte(")\x02\xe9,\x01\x00\x00\xfb\xda\x04type\xfa\x12http.response.body\xda\x04body\xf3\x02\x00\x00\x00xy\xda\tmore_bodyF\xda\x07headers[\x02\x00\x00\x00\xa9\x02\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00br\x08\x00\x00\x000")
	flagged := bytes.Clone(plain)
	flagged[0] |= flagRef
	flagged[len(flagged)-5] = 9
	pair := [2][]byte{[]byte("a"), []byte("b")}
	want := map[string]any{"type": "http.response.body", "body": []byte("xy"), "more_body": false,
		"headers": Pairs{pair, pair}}
	var o OwnedDecoder
	for i, in := range [][]byte{plain, flagged, plain, []byte(")\x02\xe9,\x01\x00\x00N")} {
		p := bytes.Clone(in)
		id, v, err := o.Pair(p)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		w := any(want)
		if i == 3 {
			w = nil
		}
		if id != 300 || !reflect.DeepEqual(v, w) {
			t.Fatalf("%d: Pair = %d, %#v, want 300, %#v", i, id, v, w)
		}
		for j := range p {
			p[j] = 0 // the result must not alias p
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("%d: after p was overwritten: %#v", i, v)
		}
	}
	// (200, {'type': ..., 'status': 200}): the status is a reference to
	// the id, the same small int.
	id, v, err := o.Pair([]byte(")\x02\xe9\xc8\x00\x00\x00{\xda\x04type\xfa\x13http.response.start\xda\x06statusr\x00\x00\x00\x000"))
	if w := map[string]any{"type": "http.response.start", "status": int64(200)}; err != nil || id != 200 || !reflect.DeepEqual(v, w) {
		t.Errorf("Pair with a reference to the id = %d, %#v, %v; want 200, %#v", id, v, err, w)
	}
	for name, p := range map[string][]byte{
		"not a tuple":   []byte("N"),
		"three items":   []byte(")\x03\xe9\x01\x00\x00\x00NN"),
		"str id":        []byte(")\x02\xda\x01aN"),
		"trailing":      []byte(")\x02\xe9\x01\x00\x00\x00NN"),
		"truncated":     []byte(")\x02\xe9\x01\x00"),
		"bad reference": []byte(")\x02\xe9\x01\x00\x00\x00r\x05\x00\x00\x00"),
	} {
		if id, v, err := o.Pair(p); err == nil {
			t.Errorf("%s: Pair = %d, %#v, want an error", name, id, v)
		}
	}
}

// TestDecodeOwnedPairs: a list of pairs of bytes decodes to Pairs, Python's
// references into it and out of it resolved; any other list, even one
// that starts with pairs, decodes to []any as before. The inputs are
// /usr/bin/python3's marshal.dumps of the dicts named.
func TestDecodeOwnedPairs(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	pair := func(k, v string) []any { return []any{b(k), b(v)} }
	for _, tc := range []struct {
		name string
		in   string
		want map[string]any
	}{
		{"v = b'x'; {'headers': [(b'a', v), (b'b', v)]}",
			"\xfb\xda\x07headers[\x02\x00\x00\x00)\x02\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00x)\x02\xf3\x01\x00\x00\x00br\x03\x00\x00\x000",
			map[string]any{"headers": Pairs{{b("a"), b("x")}, {b("b"), b("x")}}}},
		{"{'headers': [(b'a', b'b'), ('s', b't')]}",
			"\xfb\xda\x07headers[\x02\x00\x00\x00\xa9\x02\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00b\xa9\x02\xda\x01s\xf3\x01\x00\x00\x00t0",
			map[string]any{"headers": []any{pair("a", "b"), []any{"s", b("t")}}}},
		{"h = (b'a', b'b'); {'headers': [h], 'other': h}",
			"\xfb\xda\x07headers[\x01\x00\x00\x00\xa9\x02\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00b\xda\x05otherr\x02\x00\x00\x000",
			map[string]any{"headers": Pairs{{b("a"), b("b")}}, "other": pair("a", "b")}},
		{"w = b'zz'; {'body': w, 'headers': [(b'a', w)]}",
			"\xfb\xda\x04body\xf3\x02\x00\x00\x00zz\xda\x07headers[\x01\x00\x00\x00)\x02\xf3\x01\x00\x00\x00ar\x02\x00\x00\x000",
			map[string]any{"body": b("zz"), "headers": Pairs{{b("a"), b("zz")}}}},
		{"h = (b'a', b'b'); {'headers': [h, 5, h]}",
			"\xfb\xda\x07headers[\x03\x00\x00\x00\xa9\x02\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00b\xe9\x05\x00\x00\x00r\x02\x00\x00\x000",
			map[string]any{"headers": []any{pair("a", "b"), int64(5), pair("a", "b")}}},
		{"{'headers': [[b'a', b'b']], 'names': ['x', 'y']}",
			"\xfb\xda\x07headers[\x01\x00\x00\x00[\x02\x00\x00\x00\xf3\x01\x00\x00\x00a\xf3\x01\x00\x00\x00b\xda\x05names[\x02\x00\x00\x00\xda\x01x\xda\x01y0",
			map[string]any{"headers": Pairs{{b("a"), b("b")}}, "names": []any{"x", "y"}}},
	} {
		v, err := DecodeOwned([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(v, tc.want) {
			t.Errorf("%s: DecodeOwned = %#v, want %#v", tc.name, v, tc.want)
		}
	}
}

// TestOwnedDecoderTuple: a Head frame's (stream, status, headers,
// trailers) as /usr/bin/python3 writes it, into the id and three items;
// a tuple of another length is refused.
func TestOwnedDecoderTuple(t *testing.T) {
	p := []byte(")\x04\xe9,\x01\x00\x00\xe9\xc8\x00\x00\x00[\x01\x00\x00\x00\xa9\x02\xf3\x0c\x00\x00\x00content-type\xf3\n\x00\x00\x00text/plainF")
	var o OwnedDecoder
	var rest [3]any
	id, err := o.Tuple(bytes.Clone(p), rest[:])
	want := [3]any{int64(200), Pairs{{[]byte("content-type"), []byte("text/plain")}}, false}
	if err != nil || id != 300 || !reflect.DeepEqual(rest, want) {
		t.Fatalf("Tuple = %d, %#v, %v; want 300, %#v", id, rest, err, want)
	}
	var two [2]any
	if _, err := o.Tuple(p, two[:]); err == nil {
		t.Error("a 4-tuple decoded as a 3-tuple without error")
	}
}
