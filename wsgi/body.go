package wsgi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// requestBody is a request body read whole before a worker is involved, so
// that a slow client never holds one.
type requestBody struct {
	mem  []byte // the body, if held in memory
	file string // else the file it was spooled to
}

func (b *requestBody) release() {
	if b.file != "" {
		os.Remove(b.file)
	}
}

// readBody reads r's body, in memory up to MaxMemoryBody and spooled to a
// file past it. On failure it has answered the client and returns false.
// It sets r.ContentLength to the length read, so that a chunked body gets
// its CONTENT_LENGTH.
func (c *Container) readBody(w http.ResponseWriter, r *http.Request) (requestBody, bool) {
	var b requestBody
	limit := c.cfg.MaxRequestBody
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return b, true
	}
	if limit > 0 && r.ContentLength > limit {
		c.tooLarge(w, r)
		return b, false
	}
	body := io.Reader(r.Body)
	if limit > 0 {
		body = http.MaxBytesReader(w, r.Body, limit)
	}
	memMax := c.cfg.MaxMemoryBody
	var buf []byte
	if r.ContentLength > 0 && r.ContentLength <= memMax {
		buf = make([]byte, r.ContentLength)
		n, err := io.ReadFull(body, buf)
		if err != nil {
			c.bodyError(w, r, err)
			return b, false
		}
		// A body longer than declared is the next request: net/http stops
		// reading at Content-Length, so none can be left here.
		b.mem = buf[:n]
		return b, true
	}
	var mb bytes.Buffer
	n, err := io.CopyN(&mb, body, memMax+1)
	if err != nil && err != io.EOF {
		c.bodyError(w, r, err)
		return b, false
	}
	if n <= memMax {
		b.mem = mb.Bytes()
		r.ContentLength = n
		return b, true
	}
	f, err := os.CreateTemp(c.cfg.SpoolDir, "gowsgi-body-*")
	if err != nil {
		c.fail(w, r, false, http.StatusInternalServerError, fmt.Errorf("%w: cannot spool the request body: %v", ErrInternal, err))
		return b, false
	}
	b.file = f.Name()
	total, err := io.Copy(f, io.MultiReader(&mb, body))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.release()
		var pe *os.PathError
		if errors.As(err, &pe) {
			c.fail(w, r, false, http.StatusInternalServerError, fmt.Errorf("%w: cannot spool the request body: %v", ErrInternal, err))
			return requestBody{}, false
		}
		c.bodyError(w, r, err)
		return requestBody{}, false
	}
	r.ContentLength = total
	return b, true
}

// bodyError answers a failure to read the request body.
func (c *Container) bodyError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		c.tooLarge(w, r)
	case r.Context().Err() != nil, errors.Is(err, io.ErrUnexpectedEOF):
		// The client left, or sent less than it declared: nobody to answer.
		w.Header().Set("Connection", "close")
		c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: incomplete request body: %v", ErrBadRequest, err))
	default:
		c.fail(w, r, false, http.StatusBadRequest, fmt.Errorf("%w: reading the request body: %v", ErrBadRequest, err))
	}
}

func (c *Container) tooLarge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	c.fail(w, r, false, http.StatusRequestEntityTooLarge,
		fmt.Errorf("%w: the request body exceeds the limit of %d bytes", ErrBadRequest, c.cfg.MaxRequestBody))
}
