package pool

import "github.com/gowsgi/gowsgi/internal/worker"

// A worker recycled at its Config.MaxRequests cap whose replacement fails
// to start (an import broken by a deploy, say) serves on past the cap
// until one starts: a seat with an old worker is better than a seat with
// none. If it was already out of service, having been handed its quota
// while the replacement started, it is put back in, with the channels it
// had: those dropped meanwhile were parked in its seat.

// park keeps c, a channel dropped because its worker is out of service,
// if that worker is still its seat's (taken out at its cap, not yet
// replaced), for serveOverdue; p.mu is held.
func (p *Pool) park(c *worker.Conn) {
	proc := c.Proc
	if p.stopped || proc.Quota == 0 || proc.ID >= len(p.seats) {
		return
	}
	if s := p.seats[proc.ID]; s.proc == proc && proc.State() == worker.Stopping {
		s.parked = append(s.parked, c)
	}
}

// serveOverdue has old, recycled for reason, serve on in seat s after its
// replacement failed to start; the supervisor calls it after each
// failure, and it acts on the first.
func (p *Pool) serveOverdue(s *seat, old *worker.Process, reason Reason) {
	p.mu.Lock()
	if p.stopped || s.proc != old || s.overdue {
		p.mu.Unlock()
		return
	}
	s.overdue = true
	parked := s.parked
	s.parked = nil
	back := old.State() == worker.Stopping && old.Unretire()
	if back && old.Mux != nil {
		for len(p.swaiters) > 0 {
			p.wakeStream() // room for the streams that wait, again
		}
	}
	p.mu.Unlock()
	what := "recycled worker serves on: its replacement fails to start"
	if reason == ReasonMaxRequests {
		what = "worker serves past its max requests: its replacement fails to start"
	}
	p.log.Warn(what, "worker", s.id, "pid", old.PID(), "reason", reason.explain(),
		"served", old.Served.Load(), "back_in_service", back)
	if back {
		for _, c := range parked {
			p.put(c)
		}
	}
}
