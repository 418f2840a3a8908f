package lograte

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// lines returns the complete lines logged to buf so far.
func lines(buf *proctest.Buffer) []string {
	s := buf.String()
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")[:strings.Count(s, "\n")]
}

// waitLines polls until buf holds n lines, for up to 5 seconds.
func waitLines(t *testing.T, buf *proctest.Buffer, n int) []string {
	t.Helper()
	got := proctest.Poll(t, 5*time.Second, fmt.Sprintf("%d log lines", n), func() ([]string, bool) {
		got := lines(buf)
		return got, len(got) >= n
	})
	if len(got) != n {
		t.Fatalf("the log holds %d lines; want %d:\n%s", len(got), n, strings.Join(got, "\n"))
	}
	return got
}

func newLimiter(every time.Duration) (*Limiter, *proctest.Buffer) {
	buf := new(proctest.Buffer)
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	return New(log, every), buf
}

// TestBurst: of 1000 lines for one key within an interval, the first is
// logged at once and the other 999 as one line when the interval ends,
// with the last one's attributes; another key is not held back by it.
func TestBurst(t *testing.T) {
	lim, buf := newLimiter(100 * time.Millisecond)
	defer lim.Close()
	ctx := context.Background()
	start := time.Now()
	for i := range 1000 {
		lim.Log(ctx, slog.LevelWarn, "refused", "request refused", "n", i)
	}
	lim.Log(ctx, slog.LevelInfo, "other", "another line")
	got := lines(buf)
	if time.Since(start) < 100*time.Millisecond {
		want := []string{`level=WARN msg="request refused" n=0`, `level=INFO msg="another line"`}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("within the interval the log holds:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	got = waitLines(t, buf, 3)
	if want := `level=WARN msg="request refused …and 999 more" n=999 more=999`; got[2] != want {
		t.Errorf("after the interval: %s\nwant %s", got[2], want)
	}
}

// TestQuiet: after an interval with no line held back, the next line for
// the key is logged at once, without a count; Close reports the lines
// still held back.
func TestQuiet(t *testing.T) {
	lim, buf := newLimiter(200 * time.Millisecond)
	ctx := context.Background()
	lim.Log(ctx, slog.LevelWarn, "k", "first")
	// Wait until the key is forgotten: one interval with nothing held.
	proctest.Eventually(t, 5*time.Second, "the key forgotten", func() bool {
		lim.mu.Lock()
		_, held := lim.keys["k"]
		lim.mu.Unlock()
		return !held
	})
	lim.Log(ctx, slog.LevelWarn, "k", "second")
	lim.Log(ctx, slog.LevelWarn, "k", "third")
	lim.Log(ctx, slog.LevelWarn, "k", "fourth")
	lim.Close()
	got := lines(buf)
	want := []string{`level=WARN msg=first`, `level=WARN msg=second`, `level=WARN msg="fourth …and 2 more" more=2`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the log holds:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
