package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/fakeworker"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/internal/worker"
)

func TestMain(m *testing.M) {
	fakeworker.Main()
	os.Exit(m.Run())
}

// newPool returns a pool of fake workers playing part, and its count of
// workers started.
func newPool(t *testing.T, workers int, part string) (*Pool, *atomic.Int64) {
	t.Helper()
	p := New(Config{
		Workers: workers,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker:  worker.Config{Python: os.Args[0], App: part, Threads: 1, Env: fakeworker.Env()},
	})
	t.Cleanup(func() { p.Close() })
	return p, &p.spawned
}

// request returns an exchange with an empty request, which the fake
// worker answers.
func request() *worker.Exchange {
	ex := new(worker.Exchange)
	ex.StartRequest()
	ex.EndRequest(nil, "")
	return ex
}

// drain reads the response of ex to its end.
func drain(t *testing.T, ex *worker.Exchange) {
	t.Helper()
	for {
		ev, err := ex.Next()
		if err != nil {
			t.Fatalf("worker %d: %v", ex.Conn().Proc.ID, err)
		}
		if ev.Kind == worker.EndEvent {
			break
		}
	}
	ex.Finish()
}

// exchange runs one request and reads its frames to the end.
func exchange(t *testing.T, p *Pool) {
	t.Helper()
	exchangeThen(t, p, func() {})
}

// exchangeThen is exchange, calling served once it holds a channel.
func exchangeThen(t *testing.T, p *Pool, served func()) {
	t.Helper()
	ex := request()
	c, err := p.Acquire(context.Background(), ex)
	if err != nil {
		t.Fatal(err)
	}
	served()
	drain(t, ex)
	p.Release(c)
}

func TestLoadErrorIsNotRetried(t *testing.T) {
	p, spawns := newPool(t, 3, "loaderror")
	err := p.Start(context.Background())
	var le *worker.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Start: %v, want a *worker.LoadError", err)
	}
	if n := spawns.Load(); n != 3 {
		t.Errorf("%d spawns for 3 workers: a load error must not be retried", n)
	}
}

func TestServeInOrder(t *testing.T) {
	p, _ := newPool(t, 1, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Hold the only channel, queue three requests, then free it: they are
	// served first come, first served.
	ex := request()
	c, err := p.Acquire(context.Background(), ex)
	if err != nil {
		t.Fatal(err)
	}
	// Each request says it was served as soon as it holds the channel,
	// before it lets go: the next one cannot hold it before that.
	order := make(chan int, 3)
	var wg sync.WaitGroup
	defer wg.Wait() // the exchanges end before the pool is stopped
	for i := range 3 {
		wg.Go(func() { exchangeThen(t, p, func() { order <- i }) })
		waitWaiters(t, p, i+1)
	}
	drain(t, ex)
	p.Release(c)
	for want := range 3 {
		if got := <-order; got != want {
			t.Fatalf("request %d served before request %d", got, want)
		}
	}
}

func waitWaiters(t *testing.T, p *Pool, n int) {
	t.Helper()
	proctest.Poll(t, 5*time.Second, fmt.Sprintf("%d waiters", n), func() (int, bool) {
		got := p.Waiting()
		return got, got == n
	})
}

func TestAcquireGivesUp(t *testing.T) {
	p, _ := newPool(t, 1, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The only channel is taken: the second Acquire can only wait.
	if _, err := p.Acquire(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Acquire(ctx, request()); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a done context: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) != 0 {
		t.Errorf("%d waiters left behind", len(p.waiters))
	}
}

// TestCrashLoopBacksOff: a worker that dies as soon as it is ready is
// restarted ever more slowly, never in a tight loop.
func TestCrashLoopBacksOff(t *testing.T) {
	p, spawns := newPool(t, 1, "crash")
	began := time.Now()
	// It crashes right after Ready, so Start may or may not see it alive.
	p.Start(context.Background())
	proctest.Poll(t, time.Until(began.Add(20*time.Second)), "4 spawns of the crashing worker", func() (int64, bool) {
		n := spawns.Load()
		return n, n >= 4
	})
	// Backoff 100, 200 and 400 ms before the 2nd, 3rd and 4th: a tight
	// loop would spawn four in a few tens of milliseconds.
	if d := time.Since(began); d < 600*time.Millisecond {
		t.Errorf("4 spawns in %v: no backoff", d)
	}
}

func TestReplacedAfterDeath(t *testing.T) {
	p, spawns := newPool(t, 2, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	victim := p.Workers()[0]
	victim.Kill()
	<-victim.Done()
	proctest.Poll(t, 10*time.Second, "the victim replaced (3 spawns, 2 workers)", func() (string, bool) {
		n, w := spawns.Load(), len(p.Workers())
		return fmt.Sprintf("%d spawns, %d workers", n, w), n >= 3 && w >= 2
	})
	for range 10 {
		exchange(t, p)
	}
}

func TestStopEndsWaiters(t *testing.T) {
	p, _ := newPool(t, 1, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Acquire(context.Background(), request())
	errc := make(chan error)
	go func() {
		_, err := p.Acquire(context.Background(), request())
		errc <- err
	}()
	waitWaiters(t, p, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.Stop(ctx)
	if err := <-errc; !errors.Is(err, ErrStopped) {
		t.Errorf("waiter got %v, want ErrStopped", err)
	}
}

// TestMaxRequestsIsACap: under concurrency, no worker is handed more than
// Config.MaxRequests requests (its replacement is started ahead and the
// other worker serves meanwhile), and no request fails.
func TestMaxRequestsIsACap(t *testing.T) {
	const workers, maxRequests, requests, clients = 2, 10, 200, 8
	p := New(Config{
		Workers:     workers,
		MaxRequests: maxRequests,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker:      worker.Config{Python: os.Args[0], App: "hello", Threads: 1, Env: fakeworker.Env()},
	})
	t.Cleanup(func() { p.Close() })
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handed := map[*worker.Process]int{}
	var wg sync.WaitGroup
	jobs := make(chan struct{})
	for range clients {
		wg.Go(func() {
			for range jobs {
				exchangeOn(t, p, func(c *worker.Conn) {
					mu.Lock()
					handed[c.Proc]++
					mu.Unlock()
				})
			}
		})
	}
	for range requests {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	total := 0
	for proc, n := range handed {
		total += n
		if n > maxRequests || proc.Served.Load() > maxRequests {
			t.Errorf("%v was handed %d requests and served %d; want at most %d", proc, n, proc.Served.Load(), maxRequests)
		}
	}
	if total != requests {
		t.Errorf("%d requests served; want %d", total, requests)
	}
}

// exchangeOn is exchange, calling got with the channel it holds; it
// reports a failed request with t.Error, as it runs off the test's
// goroutine.
func exchangeOn(t *testing.T, p *Pool, got func(*worker.Conn)) {
	ex := request()
	c, err := p.Acquire(context.Background(), ex)
	if err != nil {
		t.Errorf("Acquire: %v", err)
		return
	}
	got(c)
	for {
		ev, err := ex.Next()
		if err != nil {
			t.Errorf("%v: reading the response: %v", c.Proc, err)
			ex.Finish()
			p.Abandon(c)
			return
		}
		if ev.Kind == worker.EndEvent {
			break
		}
	}
	ex.Finish()
	p.Release(c)
}
