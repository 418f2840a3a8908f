package wsgi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// bodyContainer is a Container that can read bodies but runs no worker.
func bodyContainer(t *testing.T, memMax, budget int64) *Container {
	t.Helper()
	return spoolContainer(t, Config{MaxMemoryBody: memMax, MaxMemoryBodies: budget})
}

// spoolContainer is a bodyContainer of cfg's body limits, spooling to a
// new directory.
func spoolContainer(t *testing.T, cfg Config) *Container {
	t.Helper()
	cfg.App, cfg.Python, cfg.SpoolDir, cfg.Logger = "app", "/usr/bin/python3", t.TempDir(), slog.New(slog.DiscardHandler)
	cfg, err := cfg.resolve()
	if err != nil {
		t.Skip(err)
	}
	c := &Container{cfg: cfg, log: cfg.Logger, funnel: cfg.newFunnel()}
	c.bodies.limit = cfg.MaxMemoryBodies
	c.spool.limit = cfg.MaxSpoolBytes
	return c
}

// contents returns what b holds, from memory or its file.
func contents(t *testing.T, b *requestBody) []byte {
	t.Helper()
	if b.file == "" {
		return b.mem
	}
	data, err := os.ReadFile(b.file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBodyBudget: a body is held in memory only while the memory budget
// (Config.MaxMemoryBodies) has room for its buffer, and is spooled to a
// file otherwise, whether its length is declared or not; releasing it
// gives its bytes back.
func TestBodyBudget(t *testing.T) {
	const memMax, budget = 100 << 10, 150 << 10
	cases := []struct {
		name     string
		size     int
		chunked  bool
		taken    int64 // of the budget, by other bodies
		memMax   int64
		inMemory bool
	}{
		{"small", 1000, false, 0, memMax, true},
		{"small chunked", 1000, true, 0, memMax, true},
		{"at the limit", memMax, false, 0, memMax, true},
		{"at the limit chunked", memMax, true, 0, memMax, true},
		{"past the limit", memMax + 1, false, 0, memMax, false},
		{"past the limit chunked", memMax + 1, true, 0, memMax, false},
		{"budget full", 1000, false, budget - 999, memMax, false},
		{"budget full chunked", 1000, true, budget - 999, memMax, false},
		{"budget runs out while growing", 80 << 10, false, budget - 40<<10, memMax, false},
		{"budget runs out while growing chunked", 80 << 10, true, budget - 40<<10, memMax, false},
		{"budget just enough", 1000, false, budget - 1000, memMax, true},
		{"spool every body", 10, false, 0, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := bodyContainer(t, tc.memMax, budget)
			c.bodies.reserve(tc.taken)
			want := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
			var src io.Reader = bytes.NewReader(want)
			if tc.chunked {
				src = io.MultiReader(src) // no length
			}
			r := httptest.NewRequest("POST", "/", src)
			b, ok := c.readBody(httptest.NewRecorder(), r)
			if !ok {
				t.Fatal("readBody failed")
			}
			if got := contents(t, &b); !bytes.Equal(got, want) || r.ContentLength != int64(tc.size) {
				t.Errorf("body of %d bytes, ContentLength %d; want the %d bytes sent", len(got), r.ContentLength, tc.size)
			}
			if inMemory := b.file == ""; inMemory != tc.inMemory {
				t.Errorf("in memory: %v; want %v", inMemory, tc.inMemory)
			}
			if used := c.bodies.used.Load() - tc.taken; used != b.reserved || b.file != "" && used != 0 {
				t.Errorf("budget used %d by a body reserving %d (file %q)", used, b.reserved, b.file)
			}
			if c.bodies.used.Load() > budget {
				t.Errorf("budget used %d > %d", c.bodies.used.Load(), budget)
			}
			file := b.file
			b.release()
			if used := c.bodies.used.Load(); used != tc.taken {
				t.Errorf("after release, budget used %d; want %d", used, tc.taken)
			}
			if _, err := os.Stat(file); file != "" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("spool file %s left: %v", file, err)
			}
		})
	}
}

// TestBodyBufferGrows: a client that declares a body of 1 MiB and sends
// 1,000 bytes of it holds a buffer (and budget) of 16 KiB, not 1 MiB; when
// it gives up, the budget is whole again and no file is left.
func TestBodyBufferGrows(t *testing.T) {
	c := bodyContainer(t, 1<<20, 0)
	pr, pw := io.Pipe()
	r := httptest.NewRequest("POST", "/", pr)
	r.ContentLength = 1 << 20
	w := httptest.NewRecorder()
	done := make(chan bool)
	go func() {
		b, ok := c.readBody(w, r)
		b.release()
		done <- ok
	}()
	pw.Write(make([]byte, 1000))
	proctest.Eventually(t, 5*time.Second, "the body to take budget", func() bool { return c.bodies.used.Load() != 0 })
	if used := c.bodies.used.Load(); used != firstBodyBuffer {
		t.Errorf("1,000 bytes of a declared 1 MiB hold %d bytes of budget; want %d", used, firstBodyBuffer)
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if <-done {
		t.Error("readBody of a body cut short succeeded")
	}
	if w.Code != http.StatusBadRequest {
		t.Errorf("status %d; want 400", w.Code)
	}
	if used := c.bodies.used.Load(); used != 0 {
		t.Errorf("budget used %d after the body failed", used)
	}
	if files, _ := filepath.Glob(filepath.Join(c.cfg.SpoolDir, "*")); len(files) > 0 {
		t.Errorf("files left: %v", files)
	}
}

// TestBodyMemoryHandBack: once the bodies of a spike (32 MiB, or half a
// smaller budget) are all released, spooled ones included, the memory is
// handed back to the system, once; not after a small load, not while a
// body is left, and not again within 30 s.
func TestBodyMemoryHandBack(t *testing.T) {
	cases := []struct {
		name    string
		limit   int64
		reserve []int64 // a spike each, released in turn
		want    int
	}{
		{"small load", 64 << 20, []int64{1 << 20, 31 << 20}, 0},
		{"spike", 64 << 20, []int64{32 << 20}, 1},
		{"half of a small budget", 16 << 20, []int64{8 << 20}, 1},
		{"no limit", -1, []int64{32 << 20}, 1},
		{"a second spike within 30 s", 64 << 20, []int64{32 << 20, 32 << 20}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			backs := 0
			m := &memBudget{limit: tc.limit, handBack: func() { backs++ }}
			for _, n := range tc.reserve {
				before := backs
				m.begin() // a spooled body
				for range n >> 20 {
					m.begin()
					if !m.reserve(1 << 20) {
						t.Fatalf("reserve 1 MiB of %d failed", tc.limit)
					}
				}
				for range n >> 20 {
					m.free(1 << 20)
					m.end()
				}
				if backs != before {
					t.Errorf("memory handed back while a spooled body is left")
				}
				m.end()
			}
			if backs != tc.want {
				t.Errorf("memory handed back %d times; want %d", backs, tc.want)
			}
		})
	}
}
