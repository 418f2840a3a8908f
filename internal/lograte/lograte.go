// Package lograte keeps a log line that repeats, as one per refused
// request under overload would, from flooding the log: a Limiter logs the
// first line for a key at once, counts the others that come within the
// interval, and then logs one line saying how many there were.
//
//	lim := lograte.New(log, time.Second)
//	defer lim.Close()
//	lim.Log(ctx, slog.LevelWarn, "overloaded", "overloaded: request refused", "path", r.URL.Path)
//
// logs the first refusal, then at most one line a second for as long as
// refusals go on: "overloaded: request refused …and 75162 more" with the
// attributes of the last of them and more=75162. After an interval with no
// line for the key, the next is logged at once again.
package lograte

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// A Limiter logs at most one line per key per interval. Its methods may be
// called from any goroutine.
type Limiter struct {
	log   *slog.Logger
	every time.Duration

	mu     sync.Mutex
	keys   map[string]*window
	closed bool
}

// A window counts the lines for a key held back since its last line.
type window struct {
	held  int
	last  line // the latest held back
	timer *time.Timer
}

type line struct {
	ctx   context.Context
	level slog.Level
	msg   string
	args  []any
}

// New returns a Limiter that writes to log at most one line per key every
// interval. An interval of 0 or less means one second.
func New(log *slog.Logger, every time.Duration) *Limiter {
	if every <= 0 {
		every = time.Second
	}
	return &Limiter{log: log, every: every, keys: make(map[string]*window)}
}

// Log logs msg with args at level, as slog.Logger.Log, unless a line for
// key was logged within the interval; then it is counted, and reported
// when the interval ends.
func (l *Limiter) Log(ctx context.Context, level slog.Level, key, msg string, args ...any) {
	l.mu.Lock()
	if w, ok := l.keys[key]; ok {
		w.held++
		w.last = line{ctx, level, msg, args}
		l.mu.Unlock()
		return
	}
	if !l.closed {
		w := new(window)
		l.keys[key] = w
		w.timer = time.AfterFunc(l.every, func() { l.flush(key, w) })
	}
	l.mu.Unlock()
	l.log.Log(ctx, level, msg, args...)
}

// flush ends the interval of key's window w: the lines held back in it
// become one line and another interval starts; with none, the key is
// forgotten.
func (l *Limiter) flush(key string, w *window) {
	l.mu.Lock()
	if l.keys[key] != w {
		l.mu.Unlock()
		return // closed meanwhile
	}
	held, last := w.held, w.last
	w.held, w.last = 0, line{}
	if held == 0 {
		delete(l.keys, key)
	} else {
		w.timer.Reset(l.every)
	}
	l.mu.Unlock()
	if held > 0 {
		l.logHeld(held, last)
	}
}

// logHeld logs the last of n lines held back, saying how many there were.
func (l *Limiter) logHeld(n int, last line) {
	args := append(last.args[:len(last.args):len(last.args)], "more", n)
	l.log.Log(last.ctx, last.level, fmt.Sprintf("%s …and %d more", last.msg, n), args...)
}

// Close logs the lines still held back, each key's as one line, and stops
// the timers: later lines are logged as they come, without limit.
func (l *Limiter) Close() {
	l.mu.Lock()
	keys := l.keys
	l.keys, l.closed = make(map[string]*window), true
	l.mu.Unlock()
	for _, w := range keys {
		w.timer.Stop()
		if w.held > 0 {
			l.logHeld(w.held, w.last)
		}
	}
}
