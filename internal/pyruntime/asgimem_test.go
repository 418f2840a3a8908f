package pyruntime_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/frame"
)

// TestASGIIdleWebSocketMemory opens 5,000 accepted, idle WebSockets on one
// worker and logs what each costs it (resident memory): a task and its
// stream, no thread. It asserts only that all stay open and end when told.
func TestASGIIdleWebSocketMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 streams")
	}
	p, w, _ := startASGI(t, testPython, "asgiapp:app")
	const n = 5000
	before := rss(t, p.Pid())
	for sid := int64(1); sid <= n; sid++ {
		w.open(sid, wsScope("/ws/echo"))
		w.msg(sid, map[string]any{"type": "websocket.connect"})
	}
	for sid := int64(1); sid <= n; sid++ {
		if g := w.next(sid); g.typ != frame.Message {
			t.Fatalf("stream %d: %v %v, want accept", sid, g.typ, g.val)
		}
	}
	after := rss(t, p.Pid())
	t.Logf("%d idle WebSockets: worker RSS %d -> %d KiB, %.1f KiB each", n, before, after, float64(after-before)/n)
	for sid := int64(1); sid <= n; sid++ {
		w.msg(sid, map[string]any{"type": "websocket.disconnect", "code": 1001})
	}
	for sid := int64(1); sid <= n; sid++ {
		for g := w.next(sid); g.typ != frame.Done; g = w.next(sid) {
		}
	}
}

// rss is a process's resident memory in KiB.
func rss(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no VmRSS for pid %d", pid)
	return 0
}
