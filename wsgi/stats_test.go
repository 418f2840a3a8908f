package wsgi

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// TestStatsDuringStart: an admin server reads Stats and Info while Start
// runs (gowsgi serve --admin serves /metrics from the first moment). Under
// the race detector, which the test command runs on this package, this
// failed while Start set the pool that Stats read without a lock.
func TestStatsDuringStart(t *testing.T) {
	c, err := NewContainer(Config{App: "pep:dispatch", Dir: "testdata/apps", Python: debianPython,
		Workers: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); len(st.Workers) != 0 {
		t.Errorf("before Start: %d workers", len(st.Workers))
	}
	started := make(chan struct{})
	var wg sync.WaitGroup
	reads := 0
	wg.Go(func() {
		for {
			c.Stats()
			c.Info()
			reads++
			select {
			case <-started:
				return
			default:
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.Start(ctx)
	close(started)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.Stats(); len(st.Workers) != 2 || reads == 0 {
		t.Errorf("after Start: %d workers, %d reads during it", len(st.Workers), reads)
	}
}
