package accesslog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileReopen rotates a File as logrotate does: each step is an action,
// then a line written; at the end every file holds the lines it should.
func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	os.WriteFile(path, []byte("before\n"), 0o644)
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rename := func(to string) func() error {
		return func() error { return os.Rename(path, filepath.Join(dir, to)) }
	}
	steps := []struct {
		name   string
		action func() error
		line   string
	}{
		{"appends", nil, "one\n"},
		{"reopen in place", f.Reopen, "two\n"},
		{"moved, not reopened", rename("access.log.1"), "three\n"},
		{"reopened", f.Reopen, "four\n"},
		{"moved again", rename("access.log.2"), "five\n"},
		{"removed and reopened", func() error { os.Remove(filepath.Join(dir, "access.log.2")); return f.Reopen() }, "six\n"},
	}
	for _, st := range steps {
		if st.action != nil {
			if err := st.action(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if _, err := f.Write([]byte(st.line)); err != nil {
			t.Fatalf("%s: Write: %v", st.name, err)
		}
	}
	for name, want := range map[string]string{
		"access.log.1": "before\none\ntwo\nthree\n", // moved while open: kept its lines
		"access.log":   "six\n",
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "access.log.2")); err == nil {
		t.Error("access.log.2 is back")
	}
}

// TestFileReopenFails checks that a File whose path cannot be opened again
// keeps writing to the file it has, and says which path failed.
func TestFileReopenFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	os.Mkdir(dir, 0o755)
	path := filepath.Join(dir, "access.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	moved := filepath.Join(filepath.Dir(dir), "moved.log")
	os.Rename(path, moved)
	os.Remove(dir)
	if err := f.Reopen(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Reopen with its directory gone: %v; want an error naming %s", err, path)
	}
	f.Write([]byte("still here\n"))
	if got, _ := os.ReadFile(moved); string(got) != "still here\n" {
		t.Errorf("the old file holds %q; want the line written after the failed Reopen", got)
	}
	f.Close()
	os.Mkdir(dir, 0o755)
	if err := f.Reopen(); err == nil {
		t.Error("Reopen after Close succeeded")
	}
}

func TestOpenFileError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "access.log")
	if _, err := OpenFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenFile(%s): %v; want an error naming the path", path, err)
	}
}
