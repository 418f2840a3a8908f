// Gohello is the benchmark's Go-native server: the responses of the hello
// and download bench apps (and wsecho's WebSocket echo) from a Go handler
// on net/http, configured as
// gowsgi serve configures it (keep-alive, h2c if asked), and no Python. It
// is the ceiling of what HTTP alone costs here, and is built by the harness,
// not shipped.
//
//	gohello -bind 127.0.0.1:8000 [-h2c]
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	bind := flag.String("bind", "127.0.0.1:8000", "listen on `HOST:PORT`")
	h2c := flag.Bool("h2c", false, "also accept HTTP/2 without TLS")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gohello: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(*h2c)
	srv := &http.Server{
		Addr:              *bind,
		Handler:           newGoHello(),
		Protocols:         protocols,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       75 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
