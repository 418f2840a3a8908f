// Package pool keeps a set of worker processes running, as many as
// Config.Workers and then as Resize sets, and hands their channels to
// requests: an idle channel at once, else, in arrival order, the next one
// freed. It installs the Python runtime, starts the workers (or, with
// Config.Preload, a zygote that forks them), and supervises each worker
// seat: a worker that dies is replaced, one that served its share or grew
// too big is recycled, and Reload replaces them all.
package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// ErrStopped is returned by Acquire once the pool is stopping.
var ErrStopped = errors.New("pool: stopped")

// Config configures a Pool.
//
// As in wsgi.Config, a negative limit means no limit; here 0, the
// default, means no limit too.
type Config struct {
	Workers    int           // number of worker processes; at least 1
	MaxWaiting int           // requests that may wait for a channel
	MaxWait    time.Duration // how long one may wait

	// A worker is recycled after MaxRequests requests, plus a random
	// 0 to MaxRequestsJitter so that workers do not all recycle at once,
	// or when its RSS exceeds MaxMemory bytes. 0: never.
	MaxRequests       int64
	MaxRequestsJitter int64
	MaxMemory         int64

	// Worker is how each worker (and the zygote) is started; the pool
	// sets its ID, and RuntimeDir to where it installed the Python
	// runtime at Start.
	Worker worker.Config

	// Preload imports the app once in a zygote and forks the workers
	// from it (see package worker); Reload starts a new zygote.
	Preload bool

	// ReloadTimeout bounds a Reload: if the new workers (and zygote) are
	// not all ready in time, they are killed and the old ones serve on.
	ReloadTimeout time.Duration

	// CPUAffinity, if not 0, pins each worker to that many CPUs of those
	// the server may use, round-robin by worker id (worker.CPUsFor), on
	// Linux; Start fails elsewhere.
	CPUAffinity int

	// MaxStreams, for ASGI workers (Worker.Interface "asgi"), is how many
	// streams one takes at once; 0 means DefaultMaxStreams. Requests go
	// to OpenStream instead of Acquire.
	MaxStreams int

	// Exited, if not nil, is called once each worker that ran has ended,
	// however it ended, as worker.Config.Exited: before its Done is
	// closed, and so before Stop returns; it must not block.
	Exited func(p *worker.Process, exit string)

	Logger *slog.Logger
}

// ErrQueueFull is returned by Acquire when Config.MaxWaiting requests are
// already waiting.
var ErrQueueFull = errors.New("pool: too many requests waiting for a worker")

// ErrWaitedTooLong is returned by Acquire after waiting Config.MaxWait.
var ErrWaitedTooLong = errors.New("pool: no worker was free in time")

// Pool is a supervised set of workers.
type Pool struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context // cancelled by Stop: supervisors end
	cancel context.CancelFunc
	wg     sync.WaitGroup

	starting sync.Mutex // held by Start: Stop and Close wait for it

	mu       sync.Mutex
	idle     []*worker.Conn
	waiters  []*waiter
	seats    []*seat // by worker id
	retiring map[*worker.Process]struct{}
	cpus     []int            // the CPUs the workers are pinned among; set by Start
	reload   sync.Mutex       // one Reload at a time
	restarts map[Reason]int64 // workers replaced, by reason
	recent   []Restart        // the last recentRestarts replacements
	stopped  bool

	swaiters []*streamWaiter         // ASGI: streams waiting for room (streams.go)
	pending  map[*worker.Process]int // ASGI: streams being opened, by worker

	dir     string  // where Start installed the Python runtime
	zyg     zygotes // with Config.Preload (preload.go)
	spawned atomic.Int64
}

// New returns a pool; Start starts its workers.
func New(cfg Config) *Pool {
	cfg.Workers = max(cfg.Workers, 1)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel,
		retiring: map[*worker.Process]struct{}{},
		restarts: map[Reason]int64{}, pending: map[*worker.Process]int{}}
	for id := range cfg.Workers {
		p.seats = append(p.seats, newSeat(p.ctx, id))
	}
	return p
}

// Start starts every worker at once and returns when all are ready. If any
// fails (an app that does not import, say), all are stopped and its error
// is returned: nothing is retried. A Stop or Close while Start runs ends
// the start-up: Start then fails with ErrStopped, and they return once
// what it started has ended.
func (p *Pool) Start(ctx context.Context) error {
	p.starting.Lock()
	defer p.starting.Unlock()
	if p.ctx.Err() != nil {
		return ErrStopped
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	err := p.start(ctx)
	if err == nil {
		return nil
	}
	stopped := p.ctx.Err() != nil
	p.close()
	if stopped && !errors.Is(err, ErrStopped) {
		err = fmt.Errorf("%w while it started: %v", ErrStopped, err)
	}
	return err
}

// start is Start, with p.starting held; if it fails, Start closes the
// pool.
func (p *Pool) start(ctx context.Context) error {
	if p.cfg.CPUAffinity > 0 {
		cpus, err := worker.AllowedCPUs()
		if err != nil {
			return fmt.Errorf("pool: CPU affinity %d: %w", p.cfg.CPUAffinity, err)
		}
		p.cpus = cpus
	}
	if err := p.install(); err != nil {
		return err
	}
	if err := p.startPreload(ctx); err != nil {
		return err
	}
	procs, err := p.spawnSet(ctx, 0, p.cfg.Workers)
	if err != nil {
		killAll(procs)
		return err
	}
	for id, proc := range procs {
		p.add(proc)
		p.wg.Add(1)
		go p.supervise(p.seats[id], proc)
	}
	if p.ctx.Err() != nil {
		return ErrStopped // as the last worker became ready
	}
	return nil
}

// spawnSet starts workers from..to-1 at once and returns them, by id
// minus from, once all are ready; if any fails, the error is that of the
// first (one traceback says it all when every worker failed alike) and
// the slice holds those that started, which the caller keeps or kills.
func (p *Pool) spawnSet(ctx context.Context, from, to int) ([]*worker.Process, error) {
	procs := make([]*worker.Process, to-from)
	errs := make([]error, to-from)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() { procs[i], errs[i] = p.spawn(ctx, from+i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return procs, err
		}
	}
	return procs, nil
}

// killAll kills the processes of a set that is not used, and waits for
// them to end.
func killAll(procs []*worker.Process) {
	for _, proc := range procs {
		if proc != nil {
			proc.Kill()
			<-proc.Done()
		}
	}
}

// ErrNotSent is returned by Acquire when the request could not be written
// to the worker it was given: that worker has died, before the request
// reached it, so trying again is safe.
var ErrNotSent = errors.New("pool: request not sent: the worker is gone")

// waiter is a request waiting for a channel. Its frame is ready, so that
// whoever frees a channel writes it at once: the worker goes from one
// request to the next without waiting for the waiter's goroutine to run.
type waiter struct {
	ex   *worker.Exchange
	done chan handoff
}

type handoff struct {
	conn *worker.Conn
	err  error
}

// Reload starts a whole new set of workers (importing the app afresh) and,
// once every one is ready, puts them in place of the old ones, which finish
// the requests they have and leave. If any new worker fails to start, none
// replaces anything, the old ones serve on, and the error is returned.
//
// With Config.Preload the new workers are forked from a new zygote, which
// imported the new code; the loser of the old and new zygotes leaves once
// its workers have.
func (p *Pool) Reload(ctx context.Context) error {
	p.reload.Lock()
	defer p.reload.Unlock()
	d := p.cfg.ReloadTimeout
	if d <= 0 {
		return p.reloadAll(ctx)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, d, errReloadTimeout)
	defer cancel()
	err := p.reloadAll(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errReloadTimeout) {
		p.log.Error("reload timed out: the new workers are killed, the old ones serve on",
			"timeout", d, "err", err)
		return fmt.Errorf("pool: reload: the new workers were not ready in %v (Config.ReloadTimeout): %w", d, err)
	}
	return err
}

// errReloadTimeout is the cause of a Reload's context past ReloadTimeout.
var errReloadTimeout = errors.New("pool: reload timed out")

// reloadAll is Reload, with p.reload held.
func (p *Pool) reloadAll(ctx context.Context) error {
	if !p.cfg.Preload {
		return p.reloadWorkers(ctx)
	}
	settle, err := p.reloadZygote(ctx)
	if err != nil {
		return err
	}
	err = p.reloadWorkers(ctx)
	settle(err == nil)
	return err
}

// reloadWorkers is Reload's new set of workers; p.reload is held.
func (p *Pool) reloadWorkers(ctx context.Context) error {
	p.mu.Lock()
	n := len(p.seats) // Resize also holds p.reload: n stays
	p.mu.Unlock()
	next, err := p.spawnSet(ctx, 0, n)
	if err != nil {
		killAll(next)
		return err
	}
	for id, proc := range next {
		p.mu.Lock()
		ch := p.seats[id].swap
		p.mu.Unlock()
		// Wait until the new worker has taken over, so that every request
		// after Reload returns runs the new code.
		sw := swap{next: proc, done: make(chan struct{})}
		select {
		case ch <- sw:
			<-sw.done
		case <-p.ctx.Done():
			killAll(next[id:])
			return ErrStopped
		}
	}
	return nil
}

// swap asks a supervisor to put next in its worker's place, and to close
// done once it has.
type swap struct {
	next *worker.Process
	done chan struct{}
}

// Acquire sends the request of ex on an idle channel, waiting for one
// until ctx is done, and returns the channel; the caller then reads the
// response from ex and gives the channel back with Release or Abandon.
func (p *Pool) Acquire(ctx context.Context, ex *worker.Exchange) (*worker.Conn, error) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil, ErrStopped
	}
	for len(p.idle) > 0 {
		c := p.idle[0]
		p.idle[0] = nil
		p.idle = p.idle[1:]
		if c.Alive() {
			p.hand(c)
			p.mu.Unlock()
			return begin(c, ex)
		}
		p.park(c)
	}
	if p.cfg.MaxWaiting > 0 && len(p.waiters) >= p.cfg.MaxWaiting {
		p.mu.Unlock()
		return nil, ErrQueueFull
	}
	w := &waiter{ex: ex, done: make(chan handoff, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	var expired <-chan time.Time
	if p.cfg.MaxWait > 0 {
		t := time.NewTimer(p.cfg.MaxWait)
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case h, ok := <-w.done:
		if !ok {
			return nil, ErrStopped
		}
		return h.conn, h.err
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = ErrWaitedTooLong
	}
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.mu.Unlock()
			return nil, err
		}
	}
	p.mu.Unlock()
	// Too late: the request was sent, so its response must be read.
	h, ok := <-w.done
	if !ok {
		return nil, ErrStopped
	}
	return h.conn, h.err
}

func begin(c *worker.Conn, ex *worker.Exchange) (*worker.Conn, error) {
	if err := ex.Send(c); err != nil {
		return c, ErrNotSent
	}
	return c, nil
}

// Release returns a channel whose exchange ended cleanly.
func (p *Pool) Release(c *worker.Conn) {
	c.Proc.Served.Add(1)
	p.put(c)
}

// hand counts a request handed to c's worker, with p.mu held. Config.
// MaxRequests is a cap: the worker that has been handed its quota takes
// no more (the others, or its replacement, take them), and its
// replacement is started ahead, at three quarters of it, so that it is
// ready by then.
func (p *Pool) hand(c *worker.Conn) { p.handProc(c.Proc) }

// handProc counts a request (or an ASGI stream) handed to proc.
func (p *Pool) handProc(proc *worker.Process) {
	q := proc.Quota
	if q == 0 || proc.ID >= len(p.seats) {
		return
	}
	s := p.seats[proc.ID]
	if s.proc != proc {
		return
	}
	s.handed++
	if s.handed == q-q/4 {
		select {
		case s.recycle <- struct{}{}:
		default:
		}
	}
	if s.handed >= q && !s.overdue {
		proc.Retire()
	}
}

// put gives c to the first waiter, writing its request, or makes it idle.
func (p *Pool) put(c *worker.Conn) {
	p.mu.Lock()
	if p.stopped || !c.Alive() {
		p.park(c)
		p.mu.Unlock()
		return
	}
	if len(p.waiters) == 0 {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	w := p.waiters[0]
	p.waiters = p.waiters[1:]
	p.hand(c)
	p.mu.Unlock()
	_, err := begin(c, w.ex)
	w.done <- handoff{c, err}
}

// Abandon gives up a channel that broke mid-exchange (or on which a
// request could not be sent): its worker cannot be trusted and is killed;
// the supervisor replaces it.
func (p *Pool) Abandon(c *worker.Conn) {
	c.Proc.Kill()
}

func (p *Pool) add(proc *worker.Process) {
	if p.cfg.MaxRequests > 0 {
		proc.Quota = p.cfg.MaxRequests + rand.Int64N(p.cfg.MaxRequestsJitter+1)
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		proc.Kill() // started as the pool stopped: Stop and Close know nothing of it
		<-proc.Done()
		return
	}
	p.seats[proc.ID].proc = proc
	p.seats[proc.ID].handed = 0
	p.seats[proc.ID].overdue, p.seats[proc.ID].parked = false, nil
	if proc.Mux != nil {
		proc.Mux.OnFree(p.streamFreed)
		// Room for all that wait, perhaps: each tries again, and those
		// that find none wait again.
		for len(p.swaiters) > 0 {
			p.wakeStream()
		}
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	for _, c := range proc.Conns {
		p.put(c)
	}
}

// Workers returns the current worker processes.
func (p *Pool) Workers() []*worker.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*worker.Process
	for _, s := range p.seats {
		if s.proc != nil {
			out = append(out, s.proc)
		}
	}
	return out
}

// Stop stops the pool: waiting Acquires fail, each worker's channels are
// closed so that it exits after its current requests, and workers still
// running when ctx is done are killed. A Start under way is ended first.
func (p *Pool) Stop(ctx context.Context) error {
	p.cancel()
	p.starting.Lock()
	defer p.starting.Unlock()
	procs := p.shut()
	for _, proc := range procs {
		proc.Stop()
	}
	var err error
	for _, proc := range procs {
		select {
		case <-proc.Done():
		case <-ctx.Done():
			err = ctx.Err()
			proc.Kill()
			<-proc.Done()
		}
	}
	p.wg.Wait()
	p.stopZygotes(ctx)
	p.uninstall()
	return err
}

// Close kills every worker at once; a Start under way is ended first.
func (p *Pool) Close() error {
	p.cancel()
	p.starting.Lock()
	defer p.starting.Unlock()
	p.close()
	return nil
}

// close is Close, with p.starting held.
func (p *Pool) close() {
	procs := p.shut()
	for _, proc := range procs {
		proc.Kill()
		<-proc.Done()
	}
	p.wg.Wait()
	p.killZygotes()
	p.uninstall()
}

func (p *Pool) shut() []*worker.Process {
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for _, w := range p.waiters {
		close(w.done)
	}
	p.waiters = nil
	for _, w := range p.swaiters {
		close(w.wake)
	}
	p.swaiters = nil
	p.idle = nil
	var procs []*worker.Process
	for _, s := range p.seats {
		if s.proc != nil {
			procs = append(procs, s.proc)
		}
	}
	for proc := range p.retiring {
		procs = append(procs, proc)
	}
	return procs
}

// Waiting reports how many requests wait for a channel.
func (p *Pool) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters) + len(p.swaiters)
}

// Reason is why a worker was replaced.
type Reason string

const (
	ReasonDied        Reason = "died"         // it exited, or was killed
	ReasonMaxRequests Reason = "max-requests" // it was handed Config.MaxRequests
	ReasonMemory      Reason = "memory"       // its RSS exceeded Config.MaxMemory
	ReasonReload      Reason = "reload"       // Reload replaced it
)

func (r Reason) String() string { return string(r) }

// explain says why a worker is recycled, in the log.
func (r Reason) explain() string {
	switch r {
	case ReasonMaxRequests:
		return "it served its max requests"
	case ReasonMemory:
		return "its memory exceeds the limit"
	case ReasonReload:
		return "the app is reloaded"
	}
	return string(r)
}

// Restarts returns how many workers were replaced, by reason.
func (p *Pool) Restarts() map[Reason]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Reason]int64, len(p.restarts))
	for k, v := range p.restarts {
		out[k] = v
	}
	return out
}

// Restart is one worker replaced.
type Restart struct {
	Worker int       // the worker's id
	PID    int       // of the process replaced
	Reason Reason    // why
	Exit   string    // how it ended, if it died
	At     time.Time // when
}

// recentRestarts is how many Restarts RecentRestarts keeps.
const recentRestarts = 20

// RecentRestarts returns the last workers replaced, oldest first.
func (p *Pool) RecentRestarts() []Restart {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Restart(nil), p.recent...)
}

func (p *Pool) countRestart(id int, old *worker.Process, reason Reason) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.restarts[reason]++
	if len(p.recent) == recentRestarts {
		p.recent = append(p.recent[:0], p.recent[1:]...)
	}
	p.recent = append(p.recent, Restart{Worker: id, PID: old.PID(), Reason: reason, Exit: old.Exit(), At: time.Now()})
}
