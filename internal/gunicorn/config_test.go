package gunicorn

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFile writes body to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIsConfigFile checks which --config files run as gunicorn's.
func TestIsConfigFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, body string
		gunicorn   bool
	}{
		{"a.py", "workers = 2\n", true},
		{"python:mysite.gunicorn_conf", "", true},
		{"gowsgi.conf", "# comment\nworkers = 2\nenv = A=1\n", false},
		{"import.conf", "import os\n", true},
		{"underscore.conf", "max_requests = 2\n", true},
		{"list.conf", "bind = ['a']\n", true},
		{"quoted.conf", "bind = '127.0.0.1:1'\n", true},
		{"double-quoted.conf", "prefix = \"/a \"\n", false},
	}
	for _, tc := range cases {
		path := tc.name
		if !strings.HasPrefix(tc.name, "python:") {
			path = writeFile(t, dir, tc.name, tc.body)
		}
		if got := IsConfigFile(path); got != tc.gunicorn {
			t.Errorf("IsConfigFile(%s) = %v; want %v", tc.name, got, tc.gunicorn)
		}
	}
	if IsConfigFile("") || IsConfigFile(filepath.Join(dir, "missing.conf")) {
		t.Error("IsConfigFile of no file, or a missing one: true; want false")
	}
}

// TestValues checks a setting's JSON value as flag values.
func TestValues(t *testing.T) {
	cases := []struct {
		json string
		want []string
		err  string
	}{
		{`"127.0.0.1:8000"`, []string{"127.0.0.1:8000"}, ""},
		{`["a", "b"]`, []string{"a", "b"}, ""},
		{`2.5`, []string{"2.5"}, ""},
		{`23`, []string{"23"}, ""},
		{`true`, []string{"true"}, ""},
		{`null`, nil, ""},
		{`[]`, nil, ""},
		{`["a", null]`, nil, "None in a list"},
		{`{"a": 1}`, nil, `{"a": 1} is not a string`},
		{`[["a"]]`, nil, "is not a string"},
	}
	for _, tc := range cases {
		got, err := Values(json.RawMessage(tc.json))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Values(%s) = %q, %v; want an error with %q", tc.json, got, err, tc.err)
			}
		case err != nil || !slices.Equal(got, tc.want):
			t.Errorf("Values(%s) = %q, %v; want %q", tc.json, got, err, tc.want)
		}
	}
}

// TestRunConfig runs gunicorn config files with debianPython: what one
// defines, and the errors of one that fails, which name the file, the
// interpreter and the Python error.
func TestRunConfig(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	t.Chdir(dir)
	good := writeFile(t, dir, "g.conf.py", `import multiprocessing
workers = multiprocessing.cpu_count() * 0 + 3
bind = ["127.0.0.1:1", "unix:/tmp/s"]
def on_starting(server): pass
def helper(): pass
`)
	writeFile(t, dir, "mod_conf.py", "max_requests = 8\n")
	cfg, err := RunConfig(context.Background(), debianPython, good)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cfg.Settings["workers"]); got != "3" {
		t.Errorf("workers = %s; want 3", got)
	}
	if got, _ := Values(cfg.Settings["bind"]); !slices.Equal(got, []string{"127.0.0.1:1", "unix:/tmp/s"}) {
		t.Errorf("bind = %q", got)
	}
	if callables := slices.Sorted(slices.Values(cfg.Callables)); !slices.Equal(callables, []string{"helper", "on_starting"}) {
		t.Errorf("callables %q; want helper, on_starting", callables)
	}
	if cfg, err := RunConfig(context.Background(), debianPython, "python:mod_conf"); err != nil || string(cfg.Settings["max_requests"]) != "8" {
		t.Errorf("python:mod_conf: %v, %v; want max_requests 8", cfg, err)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"raises.py", "import nonexistent_module_x\n", "ModuleNotFoundError: No module named 'nonexistent_module_x'"},
		{"syntax.py", "workers = (\n", "SyntaxError"},
	} {
		path := writeFile(t, dir, tc.name, tc.body)
		_, err := RunConfig(context.Background(), debianPython, path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": the gunicorn config file failed with "+debianPython+":\n") ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want the file, %s and %q", tc.name, err, debianPython, tc.want)
		}
	}
	if _, err := RunConfig(context.Background(), filepath.Join(dir, "no-python"), good); err == nil || !strings.Contains(err.Error(), "no-python") {
		t.Errorf("a missing interpreter: %v; want an error naming it", err)
	}
}
