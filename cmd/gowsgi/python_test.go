package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefaultPython checks the default of --python that a wheel's launcher
// sets (GOWSGI_DEFAULT_PYTHON), with gowsgi check, whose report names the
// interpreter that imported the app: the launcher's beats $VIRTUAL_ENV and
// PATH, and every setting beats it.
func TestDefaultPython(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "gowsgi.conf")
	os.WriteFile(conf, []byte("python = "+debianPython+"\n"), 0o644)
	missing := filepath.Join(dir, "missing", "python")
	app := []string{"check", "--chdir", "testdata", "apps:hello"}
	cases := []struct {
		name   string
		env    []string
		args   []string
		status int
		want   string // in stdout if status is 0, else in stderr
	}{
		{"launcher", []string{defaultPythonEnv + "=" + debianPython}, nil, 0, "python:  " + debianPython + " ("},
		{"launcher over VIRTUAL_ENV", []string{defaultPythonEnv + "=" + debianPython, "VIRTUAL_ENV=" + dir}, nil, 0, "python:  " + debianPython + " ("},
		{"launcher's missing", []string{defaultPythonEnv + "=" + missing}, nil, 2, missing},
		{"--python over launcher", []string{defaultPythonEnv + "=" + missing}, []string{"--python", debianPython}, 0, "python:  " + debianPython + " ("},
		{"GOWSGI_PYTHON over launcher", []string{defaultPythonEnv + "=" + missing, "GOWSGI_PYTHON=" + debianPython}, nil, 0, "python:  " + debianPython + " ("},
		{"config over launcher", []string{defaultPythonEnv + "=" + missing}, []string{"--config", conf}, 0, "python:  " + debianPython + " ("},
		{"VIRTUAL_ENV without launcher", []string{defaultPythonEnv + "=", "VIRTUAL_ENV=" + filepath.Join(dir, "venv")}, nil, 2, filepath.Join(dir, "venv", "bin", "python")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, status := runCLI(t, tc.env, append(app, tc.args...)...)
			out := stdout
			if tc.status != 0 {
				out = stderr
			}
			if status != tc.status || !strings.Contains(out, tc.want) {
				t.Errorf("status %d, want %d and %q in\nstdout:\n%s\nstderr:\n%s", status, tc.status, tc.want, stdout, stderr)
			}
		})
	}
}
