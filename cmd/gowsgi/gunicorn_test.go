package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/gunicorn"
)

// TestGunicornTable checks that serve's flags are gunicorn.Settings': a
// setting's flag and alias are serve's, its alias as shortNames has it; a
// flag warned of is accepted and warned of once, by its long name; a
// refused one stops serve.
func TestGunicornTable(t *testing.T) {
	short := shortNames()
	for _, s := range gunicorn.Settings() {
		if s.Flag == "" {
			continue
		}
		o := new(serveOptions)
		fs := newServeFlags(o)
		fs.SetOutput(io.Discard)
		for _, name := range []string{s.Flag, s.Alias} {
			if name != "" && fs.Lookup(name) == nil {
				t.Errorf("%s: serve has no flag %s", s.Name, name)
			}
		}
		if s.Sets() && s.Alias != "" && short[s.Flag] != s.Alias {
			t.Errorf("%s: shortNames has %q for --%s; want %q", s.Name, short[s.Flag], s.Flag, s.Alias)
		}
		if s.Status == gunicorn.Warned || s.Status == gunicorn.Refused {
			args := []string{"--" + s.Flag}
			if s.Alias != "" {
				args = append(args, "-"+s.Alias)
			}
			if !s.NoValue {
				args = []string{"--" + s.Flag, "x"}
				if s.Alias != "" {
					args = append(args, "-"+s.Alias, "y")
				}
			}
			err := fs.Parse(args)
			switch {
			case s.Status == gunicorn.Refused:
				if err == nil || !strings.Contains(err.Error(), "does not daemonize") {
					t.Errorf("%q: %v; want does not daemonize", args, err)
				}
			case err != nil || len(fs.Args()) != 0:
				t.Errorf("%q: %v, arguments left %q", args, err, fs.Args())
			case len(o.notes) != 1 || !slices.Equal(o.notes[0].args, []any{"flag", "--" + s.Flag}):
				t.Errorf("%q: notes %v; want one warning of --%s", args, o.notes, s.Flag)
			}
		}
	}
}
