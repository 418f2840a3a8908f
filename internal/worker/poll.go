package worker

// TryRecv is Recv without the wait: ok is false while no message is queued
// and the stream has not ended (err is then nil). With Notify it lets a
// WebSocket wait for the app with no goroutine (asgiws.Poller).
func (s *Stream) TryRecv() (msg Message, ok bool, err error) {
	s.mu.Lock()
	msg, ok = s.popLocked()
	end, space := s.end, s.space
	s.mu.Unlock()
	if ok {
		notify(space)
		return msg, true, nil
	}
	return nil, false, end
}

// Notify calls f once, as soon as TryRecv would return a message or the
// end: at once if it would now, else from the goroutine that queues it (the
// channel's reader), so f must not block. One Notify at a time.
func (s *Stream) Notify(f func()) {
	s.mu.Lock()
	if len(s.q) == 0 && s.end == nil {
		s.onReady = f
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	f()
}

// takeOnReady returns Notify's function, if any, and forgets it; s.mu is
// held.
func (s *Stream) takeOnReady() func() {
	f := s.onReady
	s.onReady = nil
	return f
}

// popLocked takes the first queued message, if any; s.mu is held.
func (s *Stream) popLocked() (Message, bool) {
	if len(s.q) == 0 {
		return nil, false
	}
	msg := s.q[0]
	s.q[0] = nil
	s.q = s.q[1:]
	if len(s.q) == 0 {
		s.q = s.qbuf[:0]
	}
	s.qBytes -= payloadLen(msg)
	return msg, true
}
