// Command preloadmem measures what Config.Preload saves: it starts the
// Django test app with 4 workers, each imported on its own and then forked
// from one zygote, warms every worker up with requests, and prints the sum
// of the workers' RSS and PSS (from /proc/PID/smaps_rollup; PSS counts a
// page shared by n processes as 1/n, so it is the real cost), the zygote's
// own, the start-up time, and the time to add one more worker.
//
//	go run ./bench/cmd/preloadmem [-workers 4] [-python /usr/bin/python3]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

func main() {
	workers := flag.Int("workers", 4, "worker processes")
	python := flag.String("python", "/usr/bin/python3", "interpreter with Django (Debian's python3-django)")
	dir := flag.String("dir", "wsgi/testdata/apps", "directory of the djangoapp package")
	app := flag.String("app", "djangoapp.wsgi:application", "the WSGI app")
	flag.Parse()
	fmt.Printf("%d workers of %s, %s\n\n", *workers, *app, *python)
	fmt.Printf("%-10s %12s %12s %12s %12s %10s %12s\n",
		"mode", "RSS sum", "PSS sum", "zygote RSS", "zygote PSS", "start", "+1 worker")
	for _, preload := range []bool{false, true} {
		r, err := measure(wsgi.Config{App: *app, Python: *python, Dir: *dir, Workers: *workers, Preload: preload,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			log.Fatalf("preload=%v: %v", preload, err)
		}
		mode := "spawn"
		if preload {
			mode = "preload"
		}
		fmt.Printf("%-10s %9.1f MiB %9.1f MiB %9.1f MiB %9.1f MiB %10v %12v\n", mode,
			mib(r.rss), mib(r.pss), mib(r.zygote.rss), mib(r.zygote.pss),
			r.start.Round(time.Millisecond), r.addOne.Round(time.Millisecond))
	}
	fmt.Println("\nRSS and PSS sums are of the workers; with preload add the zygote's for the total.")
}

type usage struct{ rss, pss int64 }

type result struct {
	usage
	zygote usage
	start  time.Duration // Start: every worker ready
	addOne time.Duration // SetWorkers(n+1): one more worker ready
}

func measure(cfg wsgi.Config) (result, error) {
	var r result
	c, err := wsgi.NewContainer(cfg)
	if err != nil {
		return r, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := c.Start(ctx); err != nil {
		return r, err
	}
	r.start = time.Since(t0)
	// Django builds its URL resolver, middleware and templates at the
	// first requests: measure workers that have served.
	for range 20 * cfg.Workers {
		req := httptest.NewRequest("GET", "http://127.0.0.1/", nil)
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return r, fmt.Errorf("GET /: %d %s", rec.Code, rec.Body)
		}
	}
	zygotes := map[int]bool{}
	for _, w := range c.Stats().Workers {
		u, err := readUsage(w.PID)
		if err != nil {
			return r, err
		}
		r.rss += u.rss
		r.pss += u.pss
		if cfg.Preload {
			zygotes[parent(w.PID)] = true
		}
	}
	for pid := range zygotes {
		u, err := readUsage(pid)
		if err != nil {
			return r, err
		}
		r.zygote.rss += u.rss
		r.zygote.pss += u.pss
	}
	t0 = time.Now()
	if err := c.SetWorkers(ctx, cfg.Workers+1); err != nil {
		return r, err
	}
	r.addOne = time.Since(t0)
	return r, c.Shutdown(ctx)
}

// readUsage reads Rss and Pss of pid from /proc/PID/smaps_rollup.
func readUsage(pid int) (usage, error) {
	var u usage
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return u, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "Rss:":
			u.rss = kb << 10
		case "Pss:":
			u.pss = kb << 10
		}
	}
	return u, sc.Err()
}

// parent returns the PPid of pid, or 0.
func parent(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
