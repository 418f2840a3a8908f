// Mixed serves Go handlers and a Django site from one http.ServeMux, the
// pattern of Tornado's FallbackHandler: Go answers /api/time (JSON) and
// /events (a server-sent-events stream); everything else goes to Django.
//
// Run it from the repository root:
//
//	go run ./examples/mixed -python /usr/bin/python3
//
// and open http://127.0.0.1:8080/. The Django project is in
// examples/mixed/djangoproject (-dir); the interpreter needs Django
// (Debian's python3-django, or pip install django).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT`")
	python := flag.String("python", "", "the Python `interpreter`, with Django installed (default: $VIRTUAL_ENV/bin/python, else python3 in PATH)")
	dir := flag.String("dir", "examples/mixed/djangoproject", "the Django project's `directory`")
	workers := flag.Int("workers", 2, "`N` Python worker processes")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *addr, wsgi.Config{
		App:     "mysite.wsgi:application",
		Python:  *python,
		Dir:     *dir,
		Workers: *workers,
		Logger:  log,
	}); err != nil {
		log.Error("mixed", "err", err)
		os.Exit(1)
	}
}

// run serves on addr until ctx is done, then stops gracefully.
func run(ctx context.Context, log *slog.Logger, addr string, cfg wsgi.Config) error {
	django, err := wsgi.NewContainer(cfg)
	if err != nil {
		return err
	}
	if err := django.Start(ctx); err != nil {
		return err // with the Python traceback if Django failed to load
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/time", apiTime)
	mux.HandleFunc("GET /events", events)
	mux.Handle("/", django) // the fallback: everything Go does not handle

	l, err := net.Listen("tcp", addr)
	if err != nil {
		django.Close()
		return err
	}
	log.Info("listening", "addr", l.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		django.Close()
		return err
	}
	log.Info("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(sctx), django.Shutdown(sctx))
}

// apiTime answers with the server's time as JSON.
func apiTime(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Time     string `json:"time"`
		Unix     int64  `json:"unix"`
		ServedBy string `json:"served_by"`
	}{now.Format(time.RFC3339Nano), now.Unix(), "go"})
}

// eventInterval is the time between two events of the /events stream.
const eventInterval = 250 * time.Millisecond

// events sends n (?n=, default 5, at most 100) server-sent events, one
// every eventInterval, each flushed to the client as it is written.
func events(w http.ResponseWriter, r *http.Request) {
	n := 5
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 100 {
			http.Error(w, fmt.Sprintf("bad n %q: want 1 to 100 events", s), http.StatusBadRequest)
			return
		}
		n = v
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	tick := time.NewTicker(eventInterval)
	defer tick.Stop()
	for i := 1; ; i++ {
		fmt.Fprintf(w, "id: %d\nevent: tick\ndata: {\"n\": %d, \"time\": %q}\n\n", i, i, time.Now().Format(time.RFC3339Nano))
		if err := rc.Flush(); err != nil || i == n {
			return
		}
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
	}
}
