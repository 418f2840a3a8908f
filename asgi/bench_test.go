package asgi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHello is bench/apps/asgihello's request through the Container
// (no network: a recorder), many at once against one real worker:
// allocs/op is the Go side's per request.
func BenchmarkHello(b *testing.B) {
	ts := start(b, "asgihello:application", func(c *Config) { c.Dir = "../bench/apps" })
	b.ReportAllocs()
	b.SetParallelism(16) // streams in flight, as under wrk -c64 on a few workers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			ts.c.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
