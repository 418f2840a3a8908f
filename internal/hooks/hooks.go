// Package hooks runs the master hooks of a gunicorn config file
// (gunicorn.conf.py): on_starting, when_ready, on_reload, on_exit,
// child_exit and nworkers_changed, which gunicorn runs in its master
// process. gowsgi's master is Go, so they run in one long-lived Python
// helper process (the runtime's _gowsgi/master.py, standard library only),
// which reads the file once and runs a hook when told to, one at a time,
// its output logged as a worker's. The worker hooks run in the workers
// themselves (see wsgi.Config.Hooks).
package hooks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/internal/pyruntime"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// Config says how to start the helper.
type Config struct {
	File       string   // the config file; required
	Python     string   // the interpreter; required
	Dir        string   // working directory ("": the server's)
	PythonPath []string // put first on sys.path
	Env        []string // the process environment
	Logger     *slog.Logger
}

// ErrGone is returned by Run once the helper has exited.
var ErrGone = errors.New("hooks: the hooks helper has exited")

// Master is the running helper. Its methods may be called from any
// goroutine; the hooks run one at a time, in the order asked.
type Master struct {
	proc    *worker.Process
	conn    net.Conn
	defined []string // the master hooks the file defines
	log     *slog.Logger

	mu      sync.Mutex
	next    int64
	pending map[int64]chan struct{}
	gone    bool
}

// exitGrace is how long Close waits for the helper to exit.
const exitGrace = 5 * time.Second

// Start starts the helper and returns once it has read the file. If the
// file raises, the error has its traceback. A file that defines no
// master hook needs no helper: it exits, and Run does nothing.
func Start(ctx context.Context, cfg Config) (*Master, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// The runtime is needed only while the helper imports it.
	dir, err := os.MkdirTemp("", "gowsgi-hooks-")
	if err != nil {
		return nil, fmt.Errorf("hooks: installing the Python runtime: %w", err)
	}
	defer os.RemoveAll(dir)
	if _, err := pyruntime.Install(dir); err != nil {
		return nil, fmt.Errorf("hooks: installing the Python runtime in %s: %w", dir, err)
	}
	wc := worker.Config{Python: cfg.Python, RuntimeDir: dir, Dir: cfg.Dir, Env: cfg.Env, Logger: cfg.Logger}
	proc, conn, err := worker.StartHelper(wc, "hooks", pyruntime.HelperBootstrap,
		cfg.File, strings.Join(cfg.PythonPath, string(os.PathListSeparator)))
	if err != nil {
		return nil, fmt.Errorf("hooks: %w", err)
	}
	m := &Master{proc: proc, conn: conn, log: cfg.Logger, pending: map[int64]chan struct{}{}}
	r := bufio.NewReader(conn)
	if err := m.awaitReady(ctx, r); err != nil {
		m.kill()
		return nil, err
	}
	if len(m.defined) == 0 {
		m.Close(ctx)
		return m, nil
	}
	go m.readReplies(r)
	return m, nil
}

// awaitReady reads the helper's first line: the hooks the file defines,
// or why it cannot be read.
func (m *Master) awaitReady(ctx context.Context, r *bufio.Reader) error {
	stop := context.AfterFunc(ctx, func() { m.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	line, err := r.ReadBytes('\n')
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("hooks: the hooks helper was not ready: %w", ctx.Err())
		}
		<-m.proc.Done()
		return fmt.Errorf("hooks: the hooks helper exited before it read the config file (%s); its output is in the log", m.proc.Exit())
	}
	m.conn.SetReadDeadline(time.Time{})
	var ready struct {
		Ready []string `json:"ready"`
		Error string   `json:"error"`
	}
	if err := json.Unmarshal(line, &ready); err != nil {
		return fmt.Errorf("hooks: the hooks helper said %q: %w", line, err)
	}
	if ready.Error != "" {
		return errors.New(strings.TrimRight(ready.Error, "\n"))
	}
	m.defined = ready.Ready
	return nil
}

// readReplies closes the channel of each hook that has returned, until
// the helper exits.
func (m *Master) readReplies(r *bufio.Reader) {
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break
		}
		var reply struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(line, &reply) != nil {
			m.log.Error("the hooks helper speaks nonsense: killing it", "line", string(line))
			m.proc.Kill()
			break
		}
		m.mu.Lock()
		if done, ok := m.pending[reply.ID]; ok {
			close(done)
			delete(m.pending, reply.ID)
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	m.gone = true
	for id, done := range m.pending {
		close(done)
		delete(m.pending, id)
	}
	m.mu.Unlock()
}

// Defined reports whether the file defines hook.
func (m *Master) Defined(hook string) bool { return slices.Contains(m.defined, hook) }

// PID is the helper's process id.
func (m *Master) PID() int { return m.proc.PID() }

// A Call is one hook to run.
type Call struct {
	Hook string `json:"hook"`
	// Server sets attributes of the server object first: num_workers.
	Server map[string]any `json:"server,omitempty"`
	// Worker is child_exit's worker, one that has ended.
	Worker *Worker `json:"worker,omitempty"`
	// Args follow the server (and worker): nworkers_changed's new and
	// old values.
	Args []any `json:"args,omitempty"`
}

// A Worker is a worker process as child_exit sees it.
type Worker struct {
	PID  int    `json:"pid"`
	Age  int64  `json:"age"`
	Exit string `json:"exit"` // how it ended (worker.exit)
}

// Run runs c's hook and waits until it has returned, or ctx is done (the
// hook then goes on, and the next waits for it). A hook that raises is
// logged by the helper, with its traceback; Run's error says only that
// the helper could not be asked. A hook the file does not define costs
// nothing.
func (m *Master) Run(ctx context.Context, c Call) error {
	if !m.Defined(c.Hook) {
		return nil
	}
	done, err := m.send(c)
	if err != nil {
		return err
	}
	select {
	case <-done:
		m.mu.Lock()
		gone := m.gone
		m.mu.Unlock()
		if gone {
			return fmt.Errorf("hooks: %s: %w", c.Hook, ErrGone)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hooks: %s did not return: %w", c.Hook, ctx.Err())
	}
}

// send writes c's line and returns the channel closed once it returned.
func (m *Master) send(c Call) (chan struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return nil, fmt.Errorf("hooks: %s: %w", c.Hook, ErrGone)
	}
	m.next++
	line, err := json.Marshal(struct {
		ID int64 `json:"id"`
		Call
	}{m.next, c})
	if err != nil {
		return nil, fmt.Errorf("hooks: %s: %w", c.Hook, err)
	}
	// The helper reads as it goes: a line waits at most for the hook
	// before it.
	if _, err := m.conn.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("hooks: %s: %w", c.Hook, ErrGone)
	}
	done := make(chan struct{})
	m.pending[m.next] = done
	return done, nil
}

// Close has the helper exit once the hooks asked for have run, killing it
// if it has not when ctx is done or after a few seconds.
func (m *Master) Close(ctx context.Context) {
	m.proc.Stop()
	t := time.NewTimer(exitGrace)
	defer t.Stop()
	select {
	case <-m.proc.Done():
	case <-ctx.Done():
		m.kill()
	case <-t.C:
		m.kill()
	}
}

func (m *Master) kill() {
	m.proc.Kill()
	<-m.proc.Done()
}
