package worker

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestLastOutput: the error of a process that died before its app was
// loaded quotes its last output, or says it printed nothing, never an
// empty quotation.
func TestLastOutput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   runner
		lines []string
		want  string
	}{
		{"output", execRunner{}, []string{"Traceback (most recent call last):", "OSError: x"},
			"its output ends:\nTraceback (most recent call last):\nOSError: x"},
		{"none", execRunner{}, nil, "it printed nothing"},
		{"blank", execRunner{}, []string{"", " "}, "it printed nothing"},
		{"forked", forkRunner{}, nil, "it printed nothing (see its zygote's output in the log)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Process{run: tc.run, out: &tail{}}
			for _, l := range tc.lines {
				p.out.add(l)
			}
			if got := p.lastOutput(); got != tc.want {
				t.Errorf("lastOutput() = %q; want %q", got, tc.want)
			}
			if strings.HasSuffix(p.lastOutput(), ":\n") {
				t.Errorf("lastOutput() ends in an empty quotation")
			}
		})
	}
}

// TestRecords: lines of worker output are grouped into records as a
// traceback, a warning or logging.exception prints them, each with the
// level Python's logging gave or ERROR for a bare traceback.
func TestRecords(t *testing.T) {
	type rec struct {
		level slog.Level
		text  string
	}
	for _, tc := range []struct {
		name  string
		lines []string
		want  []rec
	}{
		{"plain", []string{"a", "b"}, []rec{{slog.LevelInfo, "a"}, {slog.LevelInfo, "b"}}},
		{"logging", []string{"WARNING:root:x", "ERROR:app:y", "CRITICAL:app:z", "INFO:root:i", "DEBUG:root:d"},
			[]rec{{slog.LevelWarn, "WARNING:root:x"}, {slog.LevelError, "ERROR:app:y"},
				{slog.LevelError, "CRITICAL:app:z"}, {slog.LevelInfo, "INFO:root:i"}, {slog.LevelInfo, "DEBUG:root:d"}}},
		{"traceback", []string{"before", tracebackHead, `  File "a.py", line 1, in f`, "    1/0", "ZeroDivisionError: division by zero", "after"},
			[]rec{{slog.LevelInfo, "before"},
				{slog.LevelError, tracebackHead + "\n  File \"a.py\", line 1, in f\n    1/0\nZeroDivisionError: division by zero"},
				{slog.LevelInfo, "after"}}},
		{"logging.exception", []string{"ERROR:root:boom", tracebackHead, "  File x", "KeyError: 'k'"},
			[]rec{{slog.LevelError, "ERROR:root:boom\n" + tracebackHead + "\n  File x\nKeyError: 'k'"}}},
		{"chained", []string{tracebackHead, "  File x", "KeyError: 'k'", "", contextLine, "", tracebackHead, "  File y", "ValueError: v", "", "next"},
			[]rec{{slog.LevelError, tracebackHead + "\n  File x\nKeyError: 'k'\n\n" + contextLine + "\n\n" + tracebackHead + "\n  File y\nValueError: v"},
				{slog.LevelInfo, "next"}}},
		{"warning", []string{"a.py:3: UserWarning: w", "  warnings.warn(\"w\")", "b"},
			[]rec{{slog.LevelInfo, "a.py:3: UserWarning: w\n  warnings.warn(\"w\")"}, {slog.LevelInfo, "b"}}},
		{"traceback after a warning", []string{"WARNING:root:w", tracebackHead, "  File x", "E: e"},
			[]rec{{slog.LevelWarn, "WARNING:root:w"}, {slog.LevelError, tracebackHead + "\n  File x\nE: e"}}},
		{"traceback after a plain line", []string{"x", tracebackHead, "  File x", "E: e"},
			[]rec{{slog.LevelInfo, "x"}, {slog.LevelError, tracebackHead + "\n  File x\nE: e"}}},
		{"blank", []string{"", ""}, []rec{{slog.LevelInfo, ""}, {slog.LevelInfo, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []rec
			var r record
			take := func() {
				if lines := r.trimmed(); len(lines) > 0 {
					got = append(got, rec{r.level(), strings.Join(lines, "\n")})
				}
				r = record{}
			}
			for _, l := range tc.lines {
				if !r.continues(l) {
					take()
				}
				r.add(l)
			}
			take()
			if !slices.Equal(got, tc.want) {
				t.Errorf("records:\n%+v\nwant:\n%+v", got, tc.want)
			}
		})
	}
}

// lockedBuffer is a log's destination that the test may read while the
// output loggers write it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestOutputLoggedByDone: once Done is closed, what the process printed
// as it exited (a traceback, one record) is in the log, so that a server
// that stops once its workers are done does not lose it. Debian's
// /usr/bin/python3 runs the process.
func TestOutputLoggedByDone(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	for i := range 20 {
		logs := &lockedBuffer{}
		cfg := Config{ID: i, Python: python, RuntimeDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(logs, nil))}
		p, _, err := StartHelper(cfg, "helper",
			`import sys; sys.stderr.write('Traceback (most recent call last):\n  File "x", line 1\nRuntimeError: the last words\n')`)
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		if !strings.Contains(logs.String(), "RuntimeError: the last words") {
			t.Fatalf("run %d: Done closed before the traceback was logged; the log: %q", i, logs.String())
		}
	}
}
