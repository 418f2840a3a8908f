package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/gowsgi/gowsgi/static"
)

// A staticMount is a --static URL=DIR flag: the files of DIR served under
// the URL path prefix.
type staticMount struct {
	prefix string // "/static", no trailing slash
	dir    string
}

// staticValue is the repeatable --static flag.
type staticValue []staticMount

func (s *staticValue) String() string {
	var parts []string
	for _, m := range *s {
		parts = append(parts, m.prefix+"="+m.dir)
	}
	return strings.Join(parts, " ")
}

func (s *staticValue) Set(v string) error {
	prefix, dir, ok := strings.Cut(v, "=")
	prefix = strings.TrimRight(prefix, "/")
	switch {
	case !ok || dir == "":
		return fmt.Errorf("%q is not URL=DIR, as /static=./staticfiles", v)
	case !strings.HasPrefix(prefix, "/"):
		return fmt.Errorf("%q: the URL path must start with / and not be the root", v)
	}
	for _, m := range *s {
		if m.prefix == prefix {
			return fmt.Errorf("%q: %s is mounted twice", v, prefix)
		}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%q: %s is not a directory", v, dir)
	}
	*s = append(*s, staticMount{prefix, dir})
	return nil
}

// staticMux sends requests under a static mount to its file handler and
// all others to next, the application. Unlike http.ServeMux it neither
// cleans nor redirects the paths that reach the application.
type staticMux struct {
	mounts []mountedHandler // longest prefix first
	next   http.Handler
}

type mountedHandler struct {
	prefix string
	h      *static.Handler
}

// newStaticMux opens the directories of mounts and returns a handler that
// serves them in front of next, hidden files too if dotfiles. Close it to
// close the directories.
func newStaticMux(mounts []staticMount, dotfiles bool) (*staticMux, error) {
	m := new(staticMux)
	for _, sm := range mounts {
		h, err := static.New(static.Config{Root: sm.dir, Dotfiles: dotfiles})
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("--static %s=%s: %w", sm.prefix, sm.dir, err)
		}
		m.mounts = append(m.mounts, mountedHandler{sm.prefix, h})
	}
	sort.Slice(m.mounts, func(i, j int) bool { return len(m.mounts[i].prefix) > len(m.mounts[j].prefix) })
	return m, nil
}

func (m *staticMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.Contains(p, "/.") {
		// Resolve dot segments first, so that /static/../x is /x, outside
		// the mount. The app still gets the path as sent.
		p = path.Clean(p)
	}
	for _, mh := range m.mounts {
		if rest, ok := strings.CutPrefix(p, mh.prefix); ok && (rest == "" || rest[0] == '/') {
			r2 := new(http.Request)
			*r2 = *r
			u := *r.URL
			u.Path, u.RawPath = rest, ""
			r2.URL = &u
			mh.h.ServeHTTP(w, r2)
			return
		}
	}
	m.next.ServeHTTP(w, r)
}

// Close closes the mounted directories.
func (m *staticMux) Close() error {
	var errs []error
	for _, mh := range m.mounts {
		errs = append(errs, mh.h.Close())
	}
	return errors.Join(errs...)
}
