// Package worker starts and stops one Python worker process: the
// interpreter running the embedded runtime (package pyruntime) with the
// application imported, and one channel (a Unix socket pair) per thread.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/pyruntime"
)

// State is where a worker process is in its life.
type State int32

const (
	Starting State = iota // spawned, importing the app
	Ready                 // serving
	Stopping              // asked to stop: finishing its requests
	Exited                // the process has ended
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Ready:
		return "ready"
	case Stopping:
		return "stopping"
	case Exited:
		return "exited"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Config says how to start a worker.
type Config struct {
	ID         int      // the worker's id in logs
	Python     string   // interpreter to run
	RuntimeDir string   // where pyruntime.Install put the runtime
	App        string   // module:callable
	Threads    int      // channels, one per Python thread
	Dir        string   // working directory
	PythonPath []string // prepended to sys.path
	Env        []string // the process environment
	Logger     *slog.Logger

	// Hooks is a gunicorn config file whose worker hooks the worker runs
	// (hooks.go); "" means none. Age numbers the worker among those
	// started, which its hooks see as worker.age.
	Hooks string
	Age   int64

	// Exited, if not nil, is called with how the process ended once it
	// has, just before Done is closed; it must not block.
	Exited func(p *Process, exit string)

	// Interface is "wsgi" (or "": one channel per thread, one request at
	// a time on each) or "asgi": one channel and one event loop, streams
	// multiplexed on it by the Process's Mux; Threads is then 1.
	Interface string
	// Timeout, for an ASGI worker, is how long its loop may send nothing
	// while streams are open before it is taken for stuck and killed
	// (Python stacks first); 0 means never.
	Timeout time.Duration

	// CPUs, if not empty, are the CPUs every thread of the worker is
	// pinned to once it is ready (Linux; see CPUsFor). Empty: the kernel
	// places them.
	CPUs []int
}

// IsASGI reports whether cfg starts an ASGI worker.
func (cfg Config) IsASGI() bool { return cfg.Interface == "asgi" }

// interfaceArgs is the bootstrap's interface argument: "asgi", or none
// for WSGI (the runtime's default when it is absent).
func (cfg Config) interfaceArgs() []string {
	if cfg.IsASGI() {
		return []string{"asgi"}
	}
	return nil
}

// Info is what the worker reports once its app is imported.
type Info struct {
	PID            int
	Version        string // e.g. "3.11.2"
	Implementation string // "CPython" or "PyPy"
	Executable     string
	App            string   // what the app spec names, as "flask.app.Flask"
	Hooks          []string // the worker hooks its config file defines

	// An ASGI worker's: "asgi", its event loop ("uvloop" or "asyncio")
	// and whether the app speaks lifespan ("on" or "unsupported").
	Interface string
	Loop      string
	Lifespan  string
}

// LoadError reports an app that failed to import; the worker has exited with
// pyruntime.LoadErrorStatus and restarting it would fail the same way.
type LoadError struct {
	App       string
	Traceback string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("cannot load app %q:\n%s", e.App, strings.TrimRight(e.Traceback, "\n"))
}

// Process is a running worker.
type Process struct {
	ID    int
	Info  Info
	Conns []*Conn

	run     runner // how it was started: exec or fork; nil until it runs
	kind    string // "worker" or "zygote", in logs
	state   atomic.Int32
	started time.Time
	done    chan struct{} // closed once the process has been waited for
	exit    string        // how it ended, set before done is closed
	out     *tail
	outDone sync.WaitGroup // the output loggers, done at EOF
	log     *slog.Logger
	stop    sync.Once
	stopped atomic.Bool // Stop was called: no Unretire
	ended   sync.Once   // exited runs once: a fork's end may be reported twice
	onExit  func(*Process, string)

	// Served counts the exchanges that ended cleanly.
	Served atomic.Int64
	// Quota, if not 0, is how many it serves before it is recycled; set
	// before the process is shared.
	Quota int64
	// Age is Config.Age.
	Age int64

	// Mux multiplexes the streams of an ASGI worker; nil for WSGI.
	Mux *Mux

	asgi    bool
	cpus    []int // Config.CPUs
	timeout time.Duration
}

// Start spawns a worker and waits until its app is imported. If the app
// fails to import, the error is a *LoadError with the Python traceback.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	p := newProcess(cfg, "worker")
	threads := max(cfg.Threads, 1)
	if cfg.IsASGI() {
		threads = 1
	}
	args := append([]string{cfg.App, strconv.Itoa(threads),
		strings.Join(cfg.PythonPath, string(os.PathListSeparator)), strconv.Itoa(frame.MaxMeta),
		cfg.Hooks, strconv.FormatInt(cfg.Age, 10)}, cfg.interfaceArgs()...)
	err := p.spawn(cfg, threads, pyruntime.Bootstrap, args...)
	if err != nil {
		return nil, err
	}
	return p, p.ready(ctx, cfg.App)
}

func newProcess(cfg Config, kind string) *Process {
	return &Process{ID: cfg.ID, Age: cfg.Age, kind: kind, done: make(chan struct{}), out: &tail{}, log: cfg.Logger,
		onExit: cfg.Exited, asgi: cfg.IsASGI() && kind == "worker", timeout: cfg.Timeout, cpus: cfg.CPUs}
}

// ready waits for the app to be imported; if it was not, the process is
// gone when it returns.
func (p *Process) ready(ctx context.Context, app string) error {
	p.started = time.Now()
	if err := p.awaitReady(ctx, app); err != nil {
		p.Kill()
		<-p.done
		return err
	}
	if err := p.pin(); err != nil {
		p.log.Warn(err.Error())
	}
	if p.asgi {
		p.Mux = newMux(p, p.Conns[0], p.timeout)
	}
	p.state.Store(int32(Ready))
	return nil
}

// spawn runs the interpreter on program with args after the runtime's
// directory, with threads channels on fds 3, 4, ...
func (p *Process) spawn(cfg Config, threads int, program string, args ...string) error {
	args = append([]string{"-c", program, cfg.RuntimeDir}, args...)
	cmd := exec.Command(cfg.Python, args...)
	cmd.Dir = cfg.Dir
	cmd.Env = cfg.Env
	cmd.SysProcAttr = sysProcAttr() // its own process group; see sys_linux.go

	theirs, err := p.makeEnds(threads)
	if err != nil {
		return err
	}
	defer closeFiles(theirs)
	cmd.ExtraFiles = theirs[:threads]
	cmd.Stdout, cmd.Stderr = theirs[threads], theirs[threads+1]
	if err := cmd.Start(); err != nil {
		p.closeConns()
		return fmt.Errorf("%s %d: start %s: %w", p.kind, p.ID, cfg.Python, err)
	}
	p.run = execRunner{cmd.Process}
	go p.wait(cmd)
	return nil
}

// makeEnds makes the process's channels and output pipes, and returns the
// ends the child gets: one socket per thread, then stdout and stderr. The
// caller closes them once the child has them.
func (p *Process) makeEnds(threads int) ([]*os.File, error) {
	var theirs []*os.File
	for i := 0; i < threads; i++ {
		c, f, err := socketPair(p, i)
		if err != nil {
			p.closeConns()
			closeFiles(theirs)
			return nil, err
		}
		p.Conns = append(p.Conns, c)
		theirs = append(theirs, f)
	}
	// The handshake (awaitReady) reads the first channel. It is live from
	// before the child starts: a child that sends LoadError and exits at
	// once must not have end() close the channel before Go reads it.
	p.Conns[0].live = true
	for _, stream := range []string{"stdout", "stderr"} {
		w, err := p.logPipe(stream)
		if err != nil {
			p.closeConns()
			closeFiles(theirs)
			return nil, err
		}
		theirs = append(theirs, w)
	}
	return theirs, nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// socketPair makes the channel of thread i: our end as a *Conn, theirs as a
// file to pass to the child.
func socketPair(p *Process, i int) (*Conn, *os.File, error) {
	fds, err := socketpair()
	if err != nil {
		return nil, nil, fmt.Errorf("worker %d: socketpair: %w", p.ID, err)
	}
	ours := os.NewFile(uintptr(fds[0]), "gowsgi-channel")
	// Not fatal: the channel works with the default buffer too.
	syscall.SetsockoptInt(fds[1], syscall.SOL_SOCKET, syscall.SO_SNDBUF, workerSendBuffer)
	theirs := os.NewFile(uintptr(fds[1]), "gowsgi-channel")
	nc, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("worker %d: channel: %w", p.ID, err)
	}
	return newConn(p, i, nc.(*net.UnixConn)), theirs, nil
}

func (p *Process) wait(cmd *exec.Cmd) {
	err := cmd.Wait()
	var exit string
	switch {
	case err == nil:
		exit = "exit status 0"
	default:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			exit = ee.ProcessState.String()
		} else {
			exit = err.Error()
		}
	}
	p.exited(exit)
}

// exited records that the process has ended, and how; the first report
// counts.
func (p *Process) exited(exit string) {
	p.ended.Do(func() { p.end(exit) })
}

func (p *Process) end(exit string) {
	p.exit = exit
	// A grandchild may still hold the other ends: make every read end now,
	// after what the worker sent before it died.
	for _, c := range p.Conns {
		c.nc.CloseRead()
	}
	p.state.Store(int32(Exited))
	for _, c := range p.Conns {
		c.closeIfIdle()
	}
	if p.onExit != nil {
		p.onExit(p, exit)
	}
	// Done means its output is logged too: its last lines (a traceback
	// at exit) must not be lost to a server that stops once its workers
	// are done.
	p.awaitOutput()
	close(p.done)
}

func (p *Process) awaitReady(ctx context.Context, app string) error {
	c := p.Conns[0]
	defer c.Finish()
	stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	t, n, err := c.r.Next()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("worker %d: app %q not ready: %w", p.ID, app, ctx.Err())
		}
		p.Kill()
		<-p.done
		p.awaitOutput()
		return fmt.Errorf("%s %d (pid %d) exited before loading app %q (%s); %s",
			p.kind, p.ID, p.PID(), app, p.exit, p.lastOutput())
	}
	c.nc.SetReadDeadline(time.Time{})
	meta, err := c.r.Meta(t, n)
	if err != nil {
		return fmt.Errorf("worker %d: reading %v frame: %w", p.ID, t, err)
	}
	switch t {
	case frame.LoadError:
		return &LoadError{App: app, Traceback: string(meta)}
	case frame.Ready:
		return p.readInfo(meta)
	}
	return fmt.Errorf("worker %d: expected a Ready frame, got %v", p.ID, t)
}

func (p *Process) readInfo(meta []byte) error {
	v, err := marshal.Decode(meta)
	if err != nil {
		return fmt.Errorf("worker %d: Ready frame: %w", p.ID, err)
	}
	m, _ := v.(map[any]any)
	pid, _ := m["pid"].(int64)
	p.Info.PID = int(pid)
	p.Info.Version, _ = m["version"].(string)
	p.Info.Implementation, _ = m["implementation"].(string)
	p.Info.Executable, _ = m["executable"].(string)
	p.Info.App, _ = m["app"].(string)
	p.Info.Hooks = readHooks(m["hooks"])
	p.Info.Interface, _ = m["interface"].(string)
	p.Info.Loop, _ = m["loop"].(string)
	p.Info.Lifespan, _ = m["lifespan"].(string)
	if p.asgi && p.Info.Interface != "asgi" {
		return fmt.Errorf("worker %d: started as ASGI, its Ready says interface %q", p.ID, p.Info.Interface)
	}
	return nil
}

// lastOutput quotes the end of what the process printed, for an error.
func (p *Process) lastOutput() string {
	if out := p.out.String(); strings.TrimSpace(out) != "" {
		return "its output ends:\n" + out
	}
	if _, forked := p.run.(forkRunner); forked {
		// What fails between fork and the worker's own stderr goes to
		// the zygote's.
		return "it printed nothing (see its zygote's output in the log)"
	}
	return "it printed nothing"
}

// awaitOutput waits a moment for the last lines the process printed, which
// a grandchild holding the pipes could delay for ever.
func (p *Process) awaitOutput() {
	done := make(chan struct{})
	go func() { p.outDone.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// PID is the worker's process id, 0 until it runs.
func (p *Process) PID() int {
	if p.run == nil {
		return 0
	}
	return p.run.pid()
}

// State reports where the worker is in its life.
func (p *Process) State() State { return State(p.state.Load()) }

// Uptime is how long ago the worker was started.
func (p *Process) Uptime() time.Duration { return time.Since(p.started) }

// Done is closed when the process has ended and what it printed is
// logged (awaitOutput: within a second, however long a grandchild holds
// its output).
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit says how the process ended, as "exit status 1" or "signal: killed";
// it is empty until Done is closed.
func (p *Process) Exit() string {
	select {
	case <-p.done:
		return p.exit
	default:
		return ""
	}
}

// Retire takes the worker out of service: its channels are no longer
// handed out, but the requests it has go on. Stop it afterwards.
func (p *Process) Retire() {
	p.state.CompareAndSwap(int32(Ready), int32(Stopping))
}

// Unretire puts a worker that Retire took out of service back in, unless
// it was stopped or has exited since: it reports whether it did. It must
// not run concurrently with Stop.
func (p *Process) Unretire() bool {
	return !p.stopped.Load() && p.state.CompareAndSwap(int32(Stopping), int32(Ready))
}

// RSS returns the worker's resident memory in bytes.
func (p *Process) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("worker %d: no VmRSS in /proc/%d/status", p.ID, p.PID())
}

// Stop asks the worker to finish: its channels are closed, so each thread
// ends after its current request. Wait on Done; Kill if it takes too long.
func (p *Process) Stop() {
	p.stop.Do(func() {
		p.stopped.Store(true)
		if p.State() != Exited {
			p.state.Store(int32(Stopping))
		}
		if p.Mux != nil {
			p.Mux.Stop()
			return
		}
		for _, c := range p.Conns {
			c.closeWrite()
		}
	})
}

// DumpStacks has the worker print the Python stack of each of its threads
// (faulthandler, on SIGUSR1: it works even while C code holds the GIL) and
// waits, at most limit, until the dump is in the log.
func (p *Process) DumpStacks(limit time.Duration) {
	before, _ := p.out.watch()
	if p.Signal(syscall.SIGUSR1) != nil {
		return
	}
	p.out.awaitQuiet(before, 50*time.Millisecond, limit)
}

// Kill ends the worker at once with SIGKILL.
func (p *Process) Kill() { p.Signal(syscall.SIGKILL) }

// Signal sends sig to the worker.
func (p *Process) Signal(sig os.Signal) error {
	if p.run == nil {
		return os.ErrProcessDone
	}
	return p.run.signal(sig)
}

func (p *Process) closeConns() {
	for _, c := range p.Conns {
		c.nc.Close()
	}
}

func (p *Process) String() string {
	if p.run == nil {
		return fmt.Sprintf("%s %d", p.kind, p.ID)
	}
	return fmt.Sprintf("%s %d (pid %d)", p.kind, p.ID, p.PID())
}

// runner is how a process was started, and so how it is signalled: by
// exec, a child of the server, or by fork, a child of a zygote (fork.go).
type runner interface {
	pid() int
	signal(sig os.Signal) error
}

type execRunner struct{ proc *os.Process }

func (r execRunner) pid() int                   { return r.proc.Pid }
func (r execRunner) signal(sig os.Signal) error { return r.proc.Signal(sig) }
