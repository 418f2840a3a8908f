package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/pyruntime"
)

// ErrZygoteGone is returned by Fork once the zygote has exited.
var ErrZygoteGone = errors.New("worker: the zygote has exited")

// maxFDs is how many descriptors Linux passes in one message (SCM_MAX_FD).
const maxFDs = 253

// forkTimeout bounds the wait for a Forked answer: the zygote forks at
// once, so one that takes longer is stuck and is killed.
const forkTimeout = 10 * time.Second

// exitGrace is how long a zygote that closed its control socket has to
// exit before it is killed.
const exitGrace = time.Second

// A Zygote is the template process of preload: a Python process that has
// imported the app once and forks workers from itself, which then share its
// memory copy-on-write and start in milliseconds. Its one socket is the
// control socket: Fork requests go out, Forked and Reaped reports come back
// (see package frame).
type Zygote struct {
	proc *Process // the zygote itself, started as a worker with one channel
	ctl  *Conn    // the control socket, read only by loop
	done chan struct{}

	forkMu sync.Mutex // one Fork at a time: a Forked answers the one pending

	mu       sync.Mutex
	pending  *forkCall
	children map[int]*Process // forked and not yet reaped, by pid
	retiring bool             // stop once the last child is reaped
	gone     bool             // the control loop has ended
}

type forkCall struct {
	p     *Process
	reply chan error // buffered: the loop never waits
}

// StartZygote starts a zygote, which imports cfg.App, and returns once it
// has. If the app fails to import, the error is a *LoadError and the zygote
// has exited. cfg.ID numbers the zygote in logs; Threads is the workers'
// business and is given to Fork.
func StartZygote(ctx context.Context, cfg Config) (*Zygote, error) {
	p := newProcess(cfg, "zygote")
	args := append([]string{cfg.App, strings.Join(cfg.PythonPath, string(os.PathListSeparator)),
		strconv.Itoa(frame.MaxMeta), cfg.Hooks}, cfg.interfaceArgs()...)
	err := p.spawn(cfg, 1, pyruntime.ZygoteBootstrap, args...)
	if err != nil {
		return nil, err
	}
	if err := p.ready(ctx, cfg.App); err != nil {
		return nil, err
	}
	z := &Zygote{proc: p, ctl: p.Conns[0], done: make(chan struct{}), children: map[int]*Process{}}
	// While the loop reads it, the control socket stays open after the
	// zygote exits: the reports it sent last are still to be read.
	z.ctl.mu.Lock()
	z.ctl.live = true
	z.ctl.mu.Unlock()
	go z.loop()
	return z, nil
}

// Info is what the zygote reported once its app was imported.
func (z *Zygote) Info() Info { return z.proc.Info }

// PID is the zygote's process id.
func (z *Zygote) PID() int { return z.proc.PID() }

// Done is closed once the zygote has exited and every report it sent has
// been read.
func (z *Zygote) Done() <-chan struct{} { return z.done }

// Exit says how the zygote ended; it is empty until Done is closed.
func (z *Zygote) Exit() string { return z.proc.Exit() }

// Stop has the zygote exit now. Its workers go on; since nobody can then
// wait for them, how they end is no longer known (Exit says so).
func (z *Zygote) Stop() { z.proc.Stop() }

// Kill ends the zygote at once with SIGKILL; its workers go on.
func (z *Zygote) Kill() { z.proc.Kill() }

// Retire has the zygote exit once every worker forked from it has ended,
// so that it can tell how each ended. It forks no more.
func (z *Zygote) Retire() {
	z.mu.Lock()
	z.retiring = true
	idle := len(z.children) == 0
	z.mu.Unlock()
	if idle {
		z.proc.Stop()
	}
}

func (z *Zygote) String() string { return z.proc.String() }

// Fork forks worker cfg.ID from the zygote and returns it once it is ready.
// Of cfg, ID, Threads, Age and Logger count: the rest is the
// zygote's.
func (z *Zygote) Fork(ctx context.Context, cfg Config) (*Process, error) {
	threads := max(cfg.Threads, 1)
	if cfg.IsASGI() {
		threads = 1
	}
	if threads+2 > maxFDs {
		return nil, fmt.Errorf("worker %d: %d threads: a forked worker has at most %d", cfg.ID, threads, maxFDs-2)
	}
	p := newProcess(cfg, "worker")
	theirs, err := p.makeEnds(threads)
	if err != nil {
		return nil, err
	}
	err = z.fork(p, theirs)
	// The child has its own copies now, or will never have them: ours must
	// go, or the output loggers would never see the end of the pipes.
	closeFiles(theirs)
	if err != nil {
		p.closeConns()
		return nil, fmt.Errorf("worker %d: fork from %v: %w", cfg.ID, z, err)
	}
	return p, p.ready(ctx, z.proc.Info.App)
}

// fork sends the Fork request for p and waits for the zygote's answer.
func (z *Zygote) fork(p *Process, files []*os.File) error {
	z.forkMu.Lock()
	defer z.forkMu.Unlock()
	call := &forkCall{p: p, reply: make(chan error, 1)}
	z.mu.Lock()
	if z.gone || z.retiring {
		z.mu.Unlock()
		return ErrZygoteGone
	}
	z.pending = call
	z.mu.Unlock()
	age := marshal.AppendInt(nil, int32(p.Age))
	msg := append(frame.AppendHeader(nil, frame.Fork, len(age)), age...)
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	z.ctl.mu.Lock()
	_, _, err := z.ctl.nc.WriteMsgUnix(msg, syscall.UnixRights(fds...), nil)
	z.ctl.mu.Unlock()
	if err != nil {
		z.abandon(call)
		return err
	}
	t := time.NewTimer(forkTimeout)
	defer t.Stop()
	select {
	case err := <-call.reply:
		return err
	case <-z.done:
		z.abandon(call)
		return ErrZygoteGone
	case <-t.C:
		z.proc.log.Error("zygote does not answer: killing it", "zygote", z.proc.ID, "pid", z.PID())
		z.Kill()
		<-z.done
		return ErrZygoteGone
	}
}

func (z *Zygote) abandon(call *forkCall) {
	z.mu.Lock()
	if z.pending == call {
		z.pending = nil
	}
	z.mu.Unlock()
}

// loop reads the zygote's reports until it exits.
func (z *Zygote) loop() {
	defer close(z.done)
	var err error
	for err == nil {
		var t frame.Type
		var n int
		if t, n, err = z.ctl.r.Next(); err != nil {
			break
		}
		var meta []byte
		if meta, err = z.ctl.r.Meta(t, n); err != nil {
			break
		}
		switch t {
		case frame.Forked:
			err = z.forked(meta)
		case frame.Reaped:
			err = z.reaped(meta)
		default:
			err = fmt.Errorf("unexpected %v frame", t)
		}
	}
	if !errors.Is(err, os.ErrClosed) && !isEOF(err) {
		z.proc.log.Error("zygote speaks nonsense: killing it", "zygote", z.proc.ID, "pid", z.PID(), "err", err)
		z.Kill()
	}
	// Without its control socket the zygote is of no use: it exits, or is
	// made to.
	select {
	case <-z.proc.Done():
	case <-time.After(exitGrace):
		z.Kill()
		<-z.proc.Done()
	}
	z.ctl.Close()
	z.orphan()
}

// orphan hands the workers still running, whose end the zygote will not
// report, to watchers of their own.
func (z *Zygote) orphan() {
	z.mu.Lock()
	z.gone = true
	if z.pending != nil {
		z.pending.reply <- ErrZygoteGone
		z.pending = nil
	}
	orphans := z.children
	z.children = nil
	z.mu.Unlock()
	for _, p := range orphans {
		go p.watchOrphan()
	}
}

// forked handles a Forked report: the pending worker runs, or fork failed.
func (z *Zygote) forked(meta []byte) error {
	v, err := marshal.Decode(meta)
	if err != nil {
		return fmt.Errorf("Forked frame: %w", err)
	}
	z.mu.Lock()
	call := z.pending
	z.pending = nil
	pid, ok := v.(int64)
	if ok && call != nil {
		call.p.run = forkRunner{p: call.p, child: int(pid)}
		z.children[int(pid)] = call.p
	}
	z.mu.Unlock()
	switch {
	case ok && call == nil:
		// Its Fork gave up waiting: nobody will use this worker.
		syscall.Kill(int(pid), syscall.SIGKILL)
	case call == nil:
	case ok:
		call.reply <- nil
	default:
		call.reply <- fmt.Errorf("zygote could not fork: %v", v)
	}
	return nil
}

// reaped handles a Reaped report: a child of the zygote ended.
func (z *Zygote) reaped(meta []byte) error {
	v, err := marshal.Decode(meta)
	if err != nil {
		return fmt.Errorf("Reaped frame: %w", err)
	}
	t, _ := v.(marshal.Tuple)
	if len(t) != 2 {
		return fmt.Errorf("Reaped frame: want (pid, status), got %v", v)
	}
	pid, _ := t[0].(int64)
	status, _ := t[1].(int64)
	z.mu.Lock()
	p := z.children[int(pid)]
	delete(z.children, int(pid))
	idle := z.retiring && len(z.children) == 0
	z.mu.Unlock()
	if p != nil { // not a process the app started at import
		p.exited(waitString(syscall.WaitStatus(status)))
	}
	if idle {
		z.proc.Stop()
	}
	return nil
}

func isEOF(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
