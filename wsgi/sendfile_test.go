package wsgi

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileFrom reads a file from an offset, through /proc or with pread,
// and checks that the position of the descriptor, which the worker's file
// object shares, has not moved.
func TestFileFrom(t *testing.T) {
	const content = "0123456789abcdefghij"
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dir  string
		off  int64
		want string
	}{
		{"proc", procFD, 0, content},
		{"proc-offset", procFD, 5, content[5:]},
		{"proc-end", procFD, 20, ""},
		{"pread", "/nonexistent/", 0, content},
		{"pread-offset", "/nonexistent/", 5, content[5:]},
		{"pread-end", "/nonexistent/", 20, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(3, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			r, done := fileVia(tc.dir, f, tc.off)
			got, err := io.ReadAll(r)
			done()
			if err != nil || string(got) != tc.want {
				t.Errorf("read %q, %v; want %q", got, err, tc.want)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != 3 {
				t.Errorf("the shared position moved to %d, want 3", pos)
			}
			if _, isFile := r.(*os.File); isFile != strings.HasPrefix(tc.name, "proc") {
				t.Errorf("reader is a %T", r)
			}
		})
	}
}
