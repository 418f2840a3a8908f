package worker

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
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

// window is how long a record waits for a line that continues it: Python
// writes the lines of one traceback microseconds apart.
const window = 20 * time.Millisecond

// maxRecordLines bounds the lines grouped into one record.
const maxRecordLines = 1000

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

// logLines logs what the worker prints on stream, the lines that belong
// together (a traceback) as one record, until EOF.
func (p *Process) logLines(r io.ReadCloser, stream string) {
	defer p.outDone.Done()
	lines := make(chan string, 64)
	go readLines(r, lines)
	var rec record
	flush := time.NewTimer(window)
	flush.Stop()
	defer flush.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				p.emit(&rec, stream)
				return
			}
			if !rec.continues(line) {
				p.emit(&rec, stream)
			}
			rec.add(line)
			if len(rec.lines) >= maxRecordLines {
				p.emit(&rec, stream)
			}
			flush.Reset(window)
		case <-flush.C:
			p.emit(&rec, stream)
		}
	}
}

// readLines sends the lines read from r, without their end, on lines,
// and closes both at EOF.
func readLines(r io.ReadCloser, lines chan<- string) {
	defer close(lines)
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			lines <- string(bytes.TrimRight(line, "\r\n"))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// emit logs rec as one record, keeps its lines in the tail, and resets it.
func (p *Process) emit(rec *record, stream string) {
	lines := rec.trimmed()
	if len(lines) == 0 {
		return
	}
	for _, l := range lines {
		p.out.add(l)
	}
	if p.log != nil {
		p.log.Log(context.Background(), rec.level(), strings.Join(lines, "\n"), p.kind, p.ID, "stream", stream)
	}
	*rec = record{}
}

// Lines of Python's tracebacks (traceback.print_exc, an uncaught exception,
// logging.exception), as the interpreter prints them.
const (
	tracebackHead = "Traceback (most recent call last):"
	causeLine     = "The above exception was the direct cause of the following exception:"
	contextLine   = "During handling of the above exception, another exception occurred:"
)

// A record is lines of output logged together: a line, then the lines that
// continue it. A line continues a record when it is indented (a
// traceback's frames, the source line under a warning, a faulthandler
// dump), and a traceback runs from its head to its exception line, with
// the chained tracebacks after it; "Traceback ..." also continues an
// ERROR or CRITICAL logging line before it, as logging.exception prints.
type record struct {
	lines []string
	state tracebackState
}

type tracebackState int

const (
	noTraceback    tracebackState = iota
	inTraceback                   // after the head: frames until the exception line
	afterException                // a chained traceback may follow
)

func (r *record) continues(line string) bool {
	if len(r.lines) == 0 {
		return false
	}
	switch r.state {
	case inTraceback:
		return true
	case afterException:
		return line == "" || line == causeLine || line == contextLine || line == tracebackHead
	}
	if line == tracebackHead {
		// logging.exception's message line, at ERROR; a traceback after a
		// warning is taken for another report.
		l, logged := loggingLevel(r.lines[0])
		return len(r.lines) == 1 && logged && l >= slog.LevelError
	}
	return indented(line)
}

func (r *record) add(line string) {
	r.lines = append(r.lines, line)
	switch {
	case line == tracebackHead:
		r.state = inTraceback
	case r.state == inTraceback && line != "" && !indented(line):
		r.state = afterException
	}
}

// trimmed is the lines but trailing blank ones, which a chained traceback
// that did not follow leaves; a lone blank line stays.
func (r *record) trimmed() []string {
	lines := r.lines
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// level is the record's level: the one Python's logging printed, else
// ERROR for a traceback, else INFO.
func (r *record) level() slog.Level {
	if len(r.lines) == 0 {
		return slog.LevelInfo
	}
	if l, ok := loggingLevel(r.lines[0]); ok {
		return l
	}
	if r.state != noTraceback || strings.Contains(r.lines[0], tracebackHead) {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// loggingLevel reads the level Python's logging printed at the start of
// line, if any.
//
// Levels are read from the line, not given by a logging handler the worker
// would install: an app's logging.basicConfig() does nothing once the root
// logger has a handler, so installing one would change how every app's
// logs look. "LEVEL:name:message" is the format Python prints when the app
// has not configured logging (logging.warning() and the like call
// basicConfig() with it), so the prefix is read only in that case, and an
// app's own format is left alone, logged at INFO, as is the bare message of
// logging.lastResort (a library's logger with nothing configured). DEBUG and INFO lines stay
// at INFO, so that the server's level does not hide what an app chose to
// print; CRITICAL, which slog lacks, is ERROR with its prefix in the text.
func loggingLevel(line string) (slog.Level, bool) {
	switch {
	case strings.HasPrefix(line, "WARNING:"):
		return slog.LevelWarn, true
	case strings.HasPrefix(line, "ERROR:"), strings.HasPrefix(line, "CRITICAL:"):
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

func indented(line string) bool {
	return line != "" && (line[0] == ' ' || line[0] == '\t')
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
