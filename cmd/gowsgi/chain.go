package main

import (
	"net/http"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/forwarded"
)

// handler is the whole handler gowsgi serve serves, composed here and
// nowhere else. A request passes, in this order:
//
//  1. limitHead: a request head over --limit-request-fields-size gets 431;
//     limitRequest: gunicorn's --limit-request-line (414), -fields and
//     -field_size (431);
//  2. closeAfterRiskyFraming: HTTP/1.0 with Transfer-Encoding gets 400, and
//     other framing a proxy could read otherwise closes the connection after;
//  3. bodyTimeout: --body-timeout and --body-min-rate bound the body;
//  4. forwarded: trusted proxies (--forwarded-allow-ips) set the peer,
//     scheme, host and port;
//  5. accesslog: the request id and the access log line, with the true peer;
//  6. the static mounts (--static), which answer their paths themselves;
//  7. app, the wsgi.Container.
func (w *web) handler(op *ops, app http.Handler) http.Handler {
	op.mux.next = app
	var h http.Handler = op.mux
	h = accesslog.New(op.alog, h)
	h = forwarded.Handler(h, w.trusted)
	h = bodyTimeout(h, w.o.readBodyTimeout(), w.o.bodyMinRate)
	h = closeAfterRiskyFraming(h)
	return limitHead(limitRequest(h, &w.o.gunicornOptions), w.o.limitHeaderSize)
}
