package load

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"
)

// fixedServer answers keep-alive requests on its first n connections only
// and never reads the others: the way uWSGI's --http11-socket workers
// behave when every worker holds a connection.
func fixedServer(t *testing.T, n int) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for i := 0; ; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			if i >= n {
				continue
			}
			go func() {
				br := bufio.NewReader(c)
				for {
					for { // a request ends with an empty line
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestRunCountsStarvedConnections(t *testing.T) {
	addr := fixedServer(t, 2)
	r := Run(context.Background(), Config{Addr: addr, Conns: 8, Duration: 300 * time.Millisecond, Path: "/"})
	if got := r.Starved(); got != 6 {
		t.Errorf("Starved = %d, want 6 (per connection: %v)", got, r.PerConn)
	}
	if len(r.Fast) == 0 {
		t.Error("the served connections got no responses")
	}
}

func TestProbe(t *testing.T) {
	addr := fixedServer(t, 3)
	if got := Probe(context.Background(), addr, "/", 5, 200*time.Millisecond); got != 3 {
		t.Errorf("Probe answered = %d, want 3", got)
	}
}

func TestPercentile(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	if p := Percentile(d, 50); p != 50*time.Millisecond {
		t.Errorf("p50 = %v", p)
	}
	if p := Percentile(d, 99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v", p)
	}
	if p := Percentile(nil, 99); p != 0 {
		t.Errorf("p99 of nothing = %v", p)
	}
}
