package wsgi

import (
	"errors"
	"os"
	"sync/atomic"
)

// A spoolBudget bounds the bytes that the spooled request bodies take on
// disk together (Config.MaxSpoolBytes). As the memory budget, it is
// reserved as a body arrives, write by write, so that a client that
// declares a large body and stalls holds only what it sent; past it the
// request is refused (503), never waited for.
type spoolBudget struct {
	limit   int64 // negative: no limit
	used    atomic.Int64
	refused atomic.Int64 // requests refused because the budget was spent
}

// reserve takes n bytes from the budget, if they fit.
func (s *spoolBudget) reserve(n int64) bool {
	for {
		u := s.used.Load()
		if s.limit >= 0 && u+n > s.limit {
			return false
		}
		if s.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// free gives n bytes back to the budget.
func (s *spoolBudget) free(n int64) { s.used.Add(-n) }

// errSpoolFull is a spooled body's write refused by the spool budget.
var errSpoolFull = errors.New("the request bodies spooled to disk take all of Config.MaxSpoolBytes")

// spoolWriter writes a body to its spool file, reserving each write from
// the spool budget first; b.spooled counts what it reserved.
type spoolWriter struct {
	f *os.File
	b *requestBody
}

func (w spoolWriter) Write(p []byte) (int, error) {
	if w.b.disk != nil {
		if !w.b.disk.reserve(int64(len(p))) {
			return 0, errSpoolFull
		}
		w.b.spooled += int64(len(p))
	}
	return w.f.Write(p)
}
