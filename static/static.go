// Package static serves the files of a directory tree over HTTP, for the
// static assets of a web application (a Django project's STATIC_ROOT, a
// Flask app's static folder) so that Python never serves them.
//
// A Handler serves GET and HEAD requests for regular files only: there are
// no directory listings, and a path that leaves the root, by ".." or by a
// symbolic link pointing out of it, is not found. Responses carry an ETag
// and Last-Modified, so conditional requests get 304, and honour Range
// (206), by way of http.ServeContent, which sends an *os.File with
// sendfile(2) on TCP connections.
//
// Hidden files and directories, whose names start with a dot (.env,
// .git/config, .htpasswd), are not found unless Config.Dotfiles allows
// them: they hold secrets more often than assets. The top-level
// .well-known directory (RFC 8615) is the exception.
//
// Precompressed siblings are served in place of a file when the client
// accepts them: for "app.css", "app.css.br" if Accept-Encoding allows br,
// else "app.css.gz" if it allows gzip, with Content-Encoding set, the
// Content-Type of the original, and Vary: Accept-Encoding on every file
// response.
//
// Files whose names carry a content hash, as written by asset pipelines
// and Django's ManifestStaticFilesStorage ("app.3f2a9c1b.css",
// "logo.1a2b3c4d5e6f.png": a dot or dash, then 8 or more lower-case hex
// digits, then the extension), never change under that name, so they are
// sent with "Cache-Control: public, max-age=31536000, immutable"; other
// files get a short lifetime (Config.MaxAge).
//
// It is one of the four packages that gowsgi serve composes around a
// wsgi.Container, and a Go program composes the same way (see the wsgi
// package's Example (middleware)): forwarded, accesslog and static in front
// of it, in that order, and admin beside it, on an address of its own.
package static

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config configures a Handler. Only Root is required.
type Config struct {
	// Root is the directory whose files are served.
	Root string

	// MaxAge is the Cache-Control max-age of files whose names carry no
	// content hash. 0 means 60 seconds; a negative value means "no-cache":
	// clients revalidate (with the ETag) every time.
	MaxAge time.Duration

	// Dotfiles serves the files and directories whose names start with a
	// dot, which are not found otherwise.
	Dotfiles bool
}

// defaultMaxAge is the lifetime of a file without a content hash in its name.
const defaultMaxAge = 60 * time.Second

// immutable is the Cache-Control of files with a content hash in their name.
const immutable = "public, max-age=31536000, immutable"

// hashedName matches a base name with a content hash before its extension.
var hashedName = regexp.MustCompile(`[.-][0-9a-f]{8,}\.[0-9A-Za-z]+$`)

// A Handler serves the files under a root directory. The path of a request
// is the file's path under the root: mount it with http.StripPrefix.
type Handler struct {
	root         *os.Root
	cacheControl string
	dotfiles     bool
}

// New opens cfg.Root and returns a Handler serving it. The directory stays
// open: replacing the files inside it is seen at once, replacing the
// directory itself needs a new Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Root == "" {
		return nil, errors.New("static: Config.Root is empty")
	}
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("static: Config.Root %q: %w", cfg.Root, err)
	}
	cc := "no-cache"
	switch {
	case cfg.MaxAge == 0:
		cc = "public, max-age=" + strconv.Itoa(int(defaultMaxAge.Seconds()))
	case cfg.MaxAge > 0:
		cc = "public, max-age=" + strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	}
	return &Handler{root: root, cacheControl: cc, dotfiles: cfg.Dotfiles}, nil
}

// Close closes the root directory.
func (h *Handler) Close() error { return h.root.Close() }

// encodings are the precompressed siblings looked for, best first.
var encodings = []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// ServeHTTP serves the file named by r.URL.Path under the root.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || strings.HasSuffix(r.URL.Path, "/") || !h.dotfiles && hidden(name) {
		http.NotFound(w, r) // a directory (no listings), or hidden
		return
	}
	f, fi, err := h.open(name)
	if err != nil {
		httpError(w, r, err)
		return
	}
	defer f.Close()

	hdr := w.Header()
	hdr.Set("Vary", "Accept-Encoding")
	if hashedName.MatchString(path.Base(name)) {
		hdr.Set("Cache-Control", immutable)
	} else {
		hdr.Set("Cache-Control", h.cacheControl)
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = sniff(f)
	}
	hdr.Set("Content-Type", ctype)

	encoding := ""
	accept := r.Header.Get("Accept-Encoding")
	for _, e := range encodings {
		if !accepts(accept, e.name) {
			continue
		}
		cf, cfi, err := h.open(name + e.suffix)
		if err != nil {
			continue
		}
		defer cf.Close()
		f, fi, encoding = cf, cfi, e.name
		hdr.Set("Content-Encoding", encoding)
		break
	}
	hdr.Set("ETag", etag(fi, encoding))
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// open opens the regular file name under the root.
func (h *Handler) open(name string) (*os.File, fs.FileInfo, error) {
	f, err := h.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, fi, nil
}

// hidden reports whether an element of the clean path name starts with a
// dot. The top-level ".well-known" directory (RFC 8615: ACME challenges,
// security.txt) is public, though dotfiles inside it are not.
func hidden(name string) bool {
	name = strings.TrimPrefix(name, ".well-known/")
	return strings.HasPrefix(name, ".") || strings.Contains(name, "/.")
}

// etag is a strong validator from the file's size and modification time,
// distinct for each encoding.
func etag(fi fs.FileInfo, encoding string) string {
	tag := `"` + strconv.FormatInt(fi.ModTime().UnixNano(), 36) + "-" + strconv.FormatInt(fi.Size(), 36)
	if encoding != "" {
		tag += "-" + encoding
	}
	return tag + `"`
}

// sniff returns the content type of f's first bytes and rewinds it.
func sniff(f *os.File) string {
	var buf [512]byte
	n, _ := io.ReadFull(f, buf[:])
	f.Seek(0, io.SeekStart)
	return http.DetectContentType(buf[:n])
}

// accepts reports whether the Accept-Encoding header value accept allows
// the content coding name: listed, or covered by "*", with a q above 0.
func accepts(accept, name string) bool {
	star := false
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		ok := qAbove0(params)
		switch {
		case strings.EqualFold(coding, name):
			return ok
		case coding == "*":
			star = ok
		}
	}
	return star
}

// qAbove0 reports whether the parameters of an Accept-Encoding element
// leave its q above 0 (absent means 1).
func qAbove0(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
	}
	return true
}

// httpError answers an error from opening a file: 404 for a file that is
// missing, not regular or outside the root, 403 for one that may not be
// read.
func httpError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fs.ErrPermission) {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return
	}
	http.NotFound(w, r)
}
