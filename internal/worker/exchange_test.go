package worker

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// debianPython is the interpreter whose marshal encodes the test's Start
// frames, as a worker's would.
const debianPython = "/usr/bin/python3"

// TestDecodeStart: a Start frame as Python's marshal writes it decodes to
// the status and the headers as latin-1 bytes, and each breach of PEP 3333's
// types is named.
func TestDecodeStart(t *testing.T) {
	cases := []struct {
		name, value string // a Python expression: (status, headers)
		status      string
		headers     []Header
		err         string
	}{
		{"ok", `("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])`,
			"200 OK", []Header{{"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}, ""},
		{"latin-1", `("200 OK", [("X-Name", "caf\u00e9")])`, "200 OK", []Header{{"X-Name", "caf\xe9"}}, ""},
		{"no headers", `("204 No Content", [])`, "204 No Content", []Header{}, ""},
		{"not a pair", `("200 OK",)`, "", nil, "Start frame holds tuple, not (status, headers)"},
		{"bytes status", `(b"200 OK", [])`, "", nil, "status must be str (PEP 3333), not bytes"},
		{"tuple headers", `("200 OK", (("A", "b"),))`, "", nil, "headers must be a list (PEP 3333), not tuple"},
		{"list header", `("200 OK", [["A", "b"]])`, "", nil, "each header must be a (name, value) tuple (PEP 3333), not list"},
		{"bytes name", `("200 OK", [(b"A", "b")])`, "", nil, "header name must be str (PEP 3333), not bytes"},
		{"int value", `("200 OK", [("A", 1)])`, "", nil, "header A has a value of type int where PEP 3333 needs str"},
		{"beyond latin-1", `("200 OK", [("A", "\u20ac")])`, "", nil, "header A value \"\u20ac\" has a character beyond latin-1"},
		{"status beyond latin-1", `("200 \u20ac", [])`, "", nil, "has a control or non-latin-1 character"},
	}
	var exprs []string
	for _, tc := range cases {
		exprs = append(exprs, tc.value)
	}
	out, err := exec.Command(debianPython, "-c",
		"import marshal, sys\nfor v in ["+strings.Join(exprs, ", ")+"]: print(marshal.dumps(v).hex())").Output()
	if err != nil {
		t.Skipf("%s: %v", debianPython, err)
	}
	lines := strings.Fields(string(out))
	for i, tc := range cases {
		meta, err := hex.DecodeString(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		status, headers, err := decodeStart(meta, nil)
		if tc.err != "" {
			if _, ok := err.(*StartError); !ok || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v; want a *StartError saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || status != tc.status || len(headers) != len(tc.headers) {
			t.Errorf("%s: %q %q, %v; want %q %q", tc.name, status, headers, err, tc.status, tc.headers)
			continue
		}
		for j := range headers {
			if headers[j] != tc.headers[j] {
				t.Errorf("%s: header %d is %q; want %q", tc.name, j, headers[j], tc.headers[j])
			}
		}
	}
}
