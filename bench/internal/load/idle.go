package load

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Idle is a set of keep-alive connections that made one request and then
// stay silent, like browsers parked on a site.
type Idle struct {
	mu     sync.Mutex
	conns  []net.Conn
	Opened int // connections established
	Served int // of those, answered within the open timeout
}

// OpenIdle dials n connections to addr concurrently, sends one GET on each
// and waits up to wait for its response. Connections that are not answered
// stay open too: a server that does not answer them within wait is still
// holding them, which is the point of the scenario.
func OpenIdle(ctx context.Context, addr, path string, n int, wait time.Duration) *Idle {
	id := &Idle{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256) // keep the SYN burst under the listen backlog
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := net.Dialer{Timeout: wait}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return
			}
			served := false
			c.SetDeadline(time.Now().Add(wait))
			if _, err := c.Write(req); err == nil {
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					resp.Body.Close()
					served = true
				}
			}
			c.SetDeadline(time.Time{})
			id.mu.Lock()
			id.conns = append(id.conns, c)
			id.Opened++
			if served {
				id.Served++
			}
			id.mu.Unlock()
		}()
	}
	wg.Wait()
	return id
}

// StillOpen counts the connections the server has not closed: a read that
// times out means open, EOF or a reset means closed.
func (id *Idle) StillOpen() int {
	id.mu.Lock()
	defer id.mu.Unlock()
	open := 0
	buf := make([]byte, 1)
	for _, c := range id.conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.Read(buf)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			open++
		}
	}
	return open
}

// Close closes every connection.
func (id *Idle) Close() {
	id.mu.Lock()
	defer id.mu.Unlock()
	for _, c := range id.conns {
		c.Close()
	}
	id.conns = nil
}
