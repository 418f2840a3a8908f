package wsgi

import (
	"strings"
	"testing"
)

// TestWorkerOutputRecords: what an app prints through Python's logging is
// logged at its level, and a traceback is one record, its lines together.
// Uses Debian's /usr/bin/python3.
func TestWorkerOutputRecords(t *testing.T) {
	ts := startApp(t, Config{App: "logs:application", Workers: 1})
	if resp, body := ts.get(t, "/"); resp.StatusCode != 200 {
		t.Fatalf("GET /: %s %q", resp.Status, body)
	}
	ts.logs.await(t, "gowsgi-warning-x", "ZeroDivisionError: division by zero", `KeyError: 'gowsgi-key'`)
	for _, tc := range []struct {
		find  string   // names the record
		level string   // its level
		holds []string // what the same record holds
	}{
		{"gowsgi-warning-x", "level=WARN", []string{`msg=WARNING:root:gowsgi-warning-x`}},
		{"ZeroDivisionError", "level=ERROR", []string{
			`msg="Traceback (most recent call last):\n  File `, `\n    1 / 0\n`, `\nZeroDivisionError: division by zero"`}},
		{"gowsgi-boom", "level=ERROR", []string{
			`msg="ERROR:root:gowsgi-boom\nTraceback (most recent call last):\n  File `, `\nKeyError: 'gowsgi-key'"`}},
	} {
		line := logLine(ts.logs.String(), tc.find)
		if !strings.Contains(line, tc.level) {
			t.Errorf("the record of %q is not at %s: %s", tc.find, tc.level, line)
		}
		for _, h := range tc.holds {
			if !strings.Contains(line, h) {
				t.Errorf("the record of %q does not hold %q: %s", tc.find, h, line)
			}
		}
	}
}

// logLine is the first line of log that contains sub.
func logLine(log, sub string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
