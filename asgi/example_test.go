package asgi_test

import (
	"context"
	"io"
	"log"
	"net/http"

	"github.com/gowsgi/gowsgi/asgi"
	"github.com/gowsgi/gowsgi/wsgi"
)

// A FastAPI app, a Django WSGI app and a Go handler in one mux.
func ExampleNewContainer() {
	api, err := asgi.NewContainer(asgi.Config{Config: wsgi.Config{App: "main:app", Dir: "./api"}})
	if err != nil {
		log.Fatal(err)
	}
	site, err := wsgi.NewContainer(wsgi.Config{App: "mysite.wsgi:application"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, start := range []func(context.Context) error{api.Start, site.Start} {
		if err := start(ctx); err != nil {
			log.Fatal(err) // the Python traceback, if an app does not import
		}
	}
	defer api.Shutdown(ctx)
	defer site.Shutdown(ctx)

	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", api))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("/", site)
	log.Fatal(http.ListenAndServe(":8000", mux))
}
