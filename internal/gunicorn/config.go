package gunicorn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/gowsgi/gowsgi/internal/pyruntime"
)

// A gunicorn config file is Python: gowsgi runs it with the app's
// interpreter and takes what it defines as gunicorn would. A config file
// is gunicorn's (IsConfigFile):
//
//   - FILE.py, or python:MODULE (imported, as gunicorn's);
//   - any other file, if it has a line that gowsgi's own key = value
//     format cannot have and Python can: one that is not key = value (an
//     import), a key with "_" (gowsgi's keys have "-"), a value that is a
//     Python list, tuple, dict or 'string'.

// DefaultConfigFile is the file gunicorn reads without --config, from the
// current directory.
const DefaultConfigFile = "gunicorn.conf.py"

// IsConfigFile reports whether the config file at path is gunicorn's (see
// above). A file it cannot open is not: reading it as gowsgi's says why.
func IsConfigFile(path string) bool {
	if path == "" {
		return false
	}
	if IsConfigName(path) {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, "_ .([") || strings.ContainsAny(v[:min(len(v), 1)], "[({'") {
			return true
		}
	}
	return false
}

// IsConfigName reports whether path is a gunicorn config by its name
// alone: FILE.py or python:MODULE.
func IsConfigName(path string) bool {
	return strings.HasPrefix(path, "python:") || strings.HasSuffix(path, ".py")
}

// Config is what a gunicorn config file defines, as RunConfig reads it.
type Config struct {
	// Settings are its names bound to values that JSON can hold, by
	// name: gunicorn's settings, and any other variable (a helper).
	Settings map[string]json.RawMessage `json:"settings"`

	// Callables are the names of the functions it defines: server
	// hooks (Hooks), or helpers.
	Callables []string `json:"callables"`
}

// RunConfig runs the gunicorn config file at path (a file, or
// python:MODULE) with the interpreter python, in the current directory,
// and returns what it defines. ctx bounds the run. The error of a file
// that fails is its traceback; both errors name path and python.
func RunConfig(ctx context.Context, python, path string) (*Config, error) {
	cmd := exec.CommandContext(ctx, python, "-c", pyruntime.ConfigScript(), path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimRight(stderr.String(), "\n")
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%s: the gunicorn config file failed with %s:\n%s", path, python, msg)
	}
	cfg := new(Config)
	if err := json.Unmarshal(stdout.Bytes(), cfg); err != nil {
		return nil, fmt.Errorf("%s: reading what %s said of it: %v", path, python, err)
	}
	return cfg, nil
}

// Values writes the JSON value of a setting as flag values: a scalar as
// one (a bool as true or false, a number as written), a list as one for
// each item; null as none. None in a list, or a value of another kind (a
// dict), is an error.
func Values(raw json.RawMessage) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	var values []string
	for _, item := range items {
		switch x := item.(type) {
		case nil:
			if isList {
				return nil, errors.New("None in a list")
			}
		case string:
			values = append(values, x)
		case json.Number:
			values = append(values, x.String())
		case bool:
			values = append(values, fmt.Sprint(x))
		default:
			return nil, fmt.Errorf("%s is not a string, number, bool or a list of them", raw)
		}
	}
	return values, nil
}
