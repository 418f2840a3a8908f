package worker

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// maxLine is the longest line of worker output logged as one record; longer
// ones are cut into pieces, so that a worker printing megabytes without a
// newline cannot make the server buffer them.
const maxLine = 16 << 10

// tailLines is how much recent output a start-up failure quotes.
const tailLines = 20

// logPipe returns the write end of a pipe whose lines are logged, tagged
// with the worker's id and the stream's name. The caller passes it to the
// child and closes it.
func (p *Process) logPipe(stream string) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.outDone.Add(1)
	go p.logLines(r, stream)
	return w, nil
}

func (p *Process) logLines(r io.ReadCloser, stream string) {
	defer p.outDone.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			text := string(bytes.TrimRight(line, "\r\n"))
			p.out.add(text)
			if p.log != nil {
				p.log.Info(text, p.kind, p.ID, "stream", stream)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// tail keeps the last lines a worker printed.
type tail struct {
	mu      sync.Mutex
	lines   []string
	total   int           // lines ever added
	changed chan struct{} // closed and replaced at each line
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == tailLines {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
	t.total++
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// watch returns the number of lines so far and a channel closed at the next.
func (t *tail) watch() (int, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed == nil {
		t.changed = make(chan struct{})
	}
	return t.total, t.changed
}

// awaitQuiet waits until more than after lines were printed and then none
// for quiet, or until limit passes.
func (t *tail) awaitQuiet(after int, quiet, limit time.Duration) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		n, changed := t.watch()
		wait := limit // nothing yet: wait for the first line
		if n > after {
			wait = quiet
		}
		idle := time.NewTimer(wait)
		select {
		case <-changed:
			idle.Stop()
		case <-idle.C:
			if n > after {
				return
			}
		case <-deadline.C:
			idle.Stop()
			return
		}
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
