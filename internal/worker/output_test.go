package worker

import (
	"strings"
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
