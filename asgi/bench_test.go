package asgi

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// BenchmarkHello is bench/apps/asgihello's request through the Container
// (no network: a recorder), many at once against one real worker:
// allocs/op is the Go side's per request, and go-cpu-us/op the CPU time
// of this process (the worker is another one) per request, the recorder
// and httptest.NewRequest included.
func BenchmarkHello(b *testing.B) {
	benchmarkApp(b, "asgihello:application", "/")
}

// BenchmarkFastAPI is BenchmarkHello for bench/apps/fastapiapp's JSON
// endpoint.
func BenchmarkFastAPI(b *testing.B) {
	needPython(b, "fastapi")
	benchmarkApp(b, "fastapiapp:app", "/items/5?q=x")
}

func benchmarkApp(b *testing.B, app, target string) {
	ts := start(b, app, func(c *Config) { c.Dir = "../bench/apps" })
	b.ReportAllocs()
	b.SetParallelism(16) // streams in flight, as under wrk -c64 on a few workers
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			ts.c.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "go-cpu-us/op")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
