package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// memSize is the memory scenario's transfer: 1 GB each way.
const memSize = 1_000_000_000

// memCell measures the server's RSS at rest, then its peak while one
// client uploads 1 GB and while one downloads 1 GB. The target:
// neither raises RSS by more than 64 MB. For gowsgi the Go process alone
// is also reported (target: at most 30 MB idle).
func memCell(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
	pid := p.cmd.Process.Pid
	c := cell{app: a.name}
	time.Sleep(500 * time.Millisecond) // let start-up garbage settle
	rest := sampleMem(pid)
	idle, top := rest.total(), rest.top.rss
	c.rss = idle
	client := &http.Client{Timeout: time.Minute}
	up, upRate, err := peakDuring(pid, func() error {
		body := io.LimitReader(zeros{}, memSize)
		req, err := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/", body)
		if err != nil {
			return err
		}
		req.ContentLength = memSize
		return drain(client.Do(req))
	})
	if err != nil {
		c.failed = "upload: " + err.Error()
		return c
	}
	down, downRate, err := peakDuring(pid, func() error {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/", nil)
		if err != nil {
			return err
		}
		return drain(client.Do(req))
	})
	if err != nil {
		c.failed = "download: " + err.Error()
		return c
	}
	c.memUp, c.memDown, c.topIdle = max(0, up-idle), max(0, down-idle), top
	c.note = fmt.Sprintf("top process idle %s; 1 GB upload +%s (%.0f MB/s); 1 GB download +%s (%.0f MB/s)",
		fmtMB(top), fmtMB(max(0, up-idle)), upRate, fmtMB(max(0, down-idle)), downRate)
	return c
}

// peakDuring runs f while sampling the process tree's RSS every 20 ms and
// returns the peak and f's rate in MB/s.
func peakDuring(pid int, f func() error) (peak int64, rate float64, err error) {
	var peakA atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if r := treeRSS(pid); r > peakA.Load() {
				peakA.Store(r)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	err = f()
	el := time.Since(start)
	close(stop)
	<-done
	return peakA.Load(), memSize / 1e6 / el.Seconds(), err
}

func drain(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
