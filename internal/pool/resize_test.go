package pool

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/worker"
)

// TestResize grows a pool and shrinks it while the removed worker has a
// request in flight, which it finishes before it leaves.
func TestResize(t *testing.T) {
	p, spawns := newPool(t, 1, "hello")
	ctx := context.Background()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		n, size int
		err     string
	}{
		{3, 3, ""},
		{3, 3, ""},
		{0, 3, "want 1 or more"},
		{2, 2, ""},
		{4, 4, ""},
	}
	for _, st := range steps {
		err := p.Resize(ctx, st.n)
		if st.err != "" {
			if err == nil || !strings.Contains(err.Error(), st.err) {
				t.Errorf("Resize(%d): %v; want an error saying %q", st.n, err, st.err)
			}
		} else if err != nil {
			t.Fatalf("Resize(%d): %v", st.n, err)
		}
		if p.Size() != st.size {
			t.Errorf("after Resize(%d): Size %d; want %d", st.n, p.Size(), st.size)
		}
		for range 2 * st.size {
			exchange(t, p)
		}
	}
	if n := spawns.Load(); n != 5 {
		t.Errorf("%d spawns; want 5 (1, +2, +2 after removing 1)", n)
	}

	// Hold a request on every worker, then remove the last two.
	var held []*worker.Exchange
	for range 4 {
		ex := request()
		if _, err := p.Acquire(ctx, ex); err != nil {
			t.Fatal(err)
		}
		held = append(held, ex)
	}
	if err := p.Resize(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if ids := workerIDs(p); ids != "0,1" {
		t.Errorf("workers %s after Resize(2); want 0,1", ids)
	}
	for _, ex := range held {
		c := ex.Conn()
		// A fake worker has answered already, so it may have left too; its
		// answer is still there to read.
		if st := c.Proc.State(); c.Proc.ID >= 2 && st != worker.Stopping && st != worker.Exited {
			t.Errorf("removed worker %d is %v; want stopping or exited", c.Proc.ID, st)
		}
		drain(t, ex)
		p.Release(c)
	}
	for _, ex := range held {
		c := ex.Conn()
		if c.Proc.ID < 2 {
			continue
		}
		select {
		case <-c.Proc.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("removed worker %d did not exit", c.Proc.ID)
		}
	}
	for range 4 {
		exchange(t, p)
	}
}

func workerIDs(p *Pool) string {
	var ids []string
	for _, w := range p.Workers() {
		ids = append(ids, string(rune('0'+w.ID)))
	}
	return strings.Join(ids, ",")
}

// TestResizeAfterStop checks that a stopped pool does not grow.
func TestResizeAfterStop(t *testing.T) {
	p, _ := newPool(t, 1, "hello")
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := p.Resize(context.Background(), 2); err != ErrStopped {
		t.Errorf("Resize after Close: %v; want ErrStopped", err)
	}
}
