package adapter

// maxRead bounds one read from wsgi.input, and so the memory that one
// Read of the handler's can make Python allocate.
const maxRead = 1 << 20

// body is the request body: each Read asks Python for at most len(p) bytes
// of wsgi.input, so the body is read as the handler reads it, never ahead.
// environ.NewRequest stops it at CONTENT_LENGTH.
type body struct {
	x *exchange
}

func (b *body) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > maxRead {
		p = p[:maxRead]
	}
	if err := b.x.send(event{kind: evRead, want: len(p), buf: p}); err != nil {
		return 0, err
	}
	select {
	case r := <-b.x.replies:
		return r.n, r.err
	case <-b.x.gone:
		return 0, errGone
	}
}

func (b *body) Close() error { return nil }
