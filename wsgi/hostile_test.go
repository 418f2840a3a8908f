package wsgi

import (
	"os"
	"testing"

	"github.com/gowsgi/gowsgi/internal/fakeworker"
)

func TestMain(m *testing.M) {
	fakeworker.Main() // returns unless this process plays a worker
	os.Exit(m.Run())
}

// TestHostileWorker: a worker that breaks the protocol is killed and
// replaced; its request gets a 502 naming the fault, and Go allocates
// nothing it claims.
func TestHostileWorker(t *testing.T) {
	for _, tc := range []struct{ part, why string }{
		{"garbage", "protocol error"},
		{"giant", "exceeds the 1048576-byte limit"},
		{"unknown", `unexpected Type(0x3f) frame`},
		{"file-first", "File frame before Start"},
	} {
		t.Run(tc.part, func(t *testing.T) {
			ts := startApp(t, Config{App: tc.part, Python: os.Args[0], Env: []string{fakeworker.EnvVar + "=1"}, Workers: 1})
			resp, body := ts.get(t, "/")
			ts.awaitFailure(t, resp, body, 502, "worker failed during a request", tc.why)
			ts.logs.await(t, "worker exited", "signal: killed", "worker started")
		})
	}
}
