package wsgi_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/admin"
	"github.com/gowsgi/gowsgi/forwarded"
	"github.com/gowsgi/gowsgi/static"
	"github.com/gowsgi/gowsgi/wsgi"
)

// A Go team mounts Django beside its own handlers, with Go serving the
// static files, trusted-proxy handling and an access log in front, and the
// metrics on an address of their own: what gowsgi serve composes, by hand.
// (Compiled, not run: it would serve for ever.)
func Example_middleware() {
	app, err := wsgi.NewContainer(wsgi.Config{App: "mysite.wsgi:application", Python: "/usr/bin/python3"})
	if err != nil {
		log.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		log.Fatal(err) // the Python traceback if the app does not import
	}
	defer app.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/", app)
	files, _ := static.New(static.Config{Root: "staticfiles"}) // ETag, Range, .br/.gz, no dotfiles
	mux.Handle("/static/", http.StripPrefix("/static", files))
	trusted, _ := forwarded.ParseTrusted([]string{"10.0.0.0/8"})
	handler := forwarded.Handler(accesslog.New(accesslog.Config{Format: accesslog.Combined, Output: os.Stdout}, mux), trusted)

	status := admin.New(admin.Config{Stats: app.Stats})
	go status.Run(context.Background()) // samples for the status page's charts
	go http.ListenAndServe("127.0.0.1:9100", status)
	log.Fatal(http.ListenAndServe(":8000", handler))
}
