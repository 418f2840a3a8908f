package gunicorn

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
)

// The tests here that run Python run Debian's, debianPython.
const debianPython = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("no %s: %v", debianPython, err)
	}
}

// TestSplitArgs checks GUNICORN_CMD_ARGS's splitting against Python's
// shlex.split, which gunicorn uses.
func TestSplitArgs(t *testing.T) {
	needPython(t)
	cases := []string{
		`--workers 2 -b 127.0.0.1:8000`,
		`  -e 'A=x y'   -e "B=\"q\" \\ \n \$" `,
		`a\ b c\\d 'it'\''s' ""`,
		"tab\tnew\nline",
		`"mixed"'quotes'bare`,
		`--access-logformat '%(h)s "%(r)s"'`,
	}
	for _, in := range cases {
		got, err := SplitArgs(in)
		if err != nil {
			t.Errorf("SplitArgs(%q): %v", in, err)
			continue
		}
		out, err := exec.Command(debianPython, "-c", "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))", in).Output()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("SplitArgs(%q) = %q; shlex.split: %q", in, got, want)
		}
	}
	for _, in := range []string{`'open`, `"open`, `end\`} {
		if got, err := SplitArgs(in); err == nil {
			t.Errorf("SplitArgs(%q) = %q; want an error", in, got)
		}
	}
}
