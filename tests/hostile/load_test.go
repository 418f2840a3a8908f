package hostile

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadStats counts what a load run's requests got.
type loadStats struct {
	ok     atomic.Int64 // 200s
	mu     sync.Mutex
	failed map[string]int // by status or error, for the others
}

func (s *loadStats) fail(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = make(map[string]int)
	}
	s.failed[why]++
}

// failures returns the number of failed requests.
func (s *loadStats) failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.failed {
		n += c
	}
	return n
}

func (s *loadStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var why []string
	total := 0
	for k, n := range s.failed {
		why = append(why, fmt.Sprintf("%d× %s", n, k))
		total += n
	}
	sort.Strings(why)
	return fmt.Sprintf("%d ok, %d failed %v", s.ok.Load(), total, why)
}

// load runs n clients, each on its own keep-alive connection, sending GET
// url one after the other until ctx is done; the requests cut short by ctx
// do not count.
func load(ctx context.Context, n int, url string) *loadStats {
	st := new(loadStats)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 1,
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for ctx.Err() == nil {
				loadOne(ctx, c, url, st)
			}
		}()
	}
	wg.Wait()
	return st
}

func loadOne(ctx context.Context, c *http.Client, url string, st *loadStats) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			st.fail(shortErr(err))
		}
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil:
		st.fail("body: " + shortErr(err))
	case resp.StatusCode == 200:
		st.ok.Add(1)
	default:
		st.fail(resp.Status)
	}
}

// shortErr drops the addresses from err, so that errors of a kind count
// together.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
