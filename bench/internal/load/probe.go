package load

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"time"
)

// Probe opens n fresh keep-alive connections, sends one GET on each and
// reports how many got a status line back within wait. It is run in the
// middle of a wrk load: a server that serves a fixed set of connections and
// leaves the others queued answers none of the probe's connections, which
// is exactly the starvation wrk does not report as an error.
func Probe(ctx context.Context, addr, path string, n int, wait time.Duration) (answered int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if probeOne(ctx, addr, req, wait) {
				mu.Lock()
				answered++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return answered
}

func probeOne(ctx context.Context, addr, req string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte(req)); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "HTTP/1.")
}
