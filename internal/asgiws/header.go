package asgiws

import (
	"net/http"

	"github.com/gowsgi/gowsgi/internal/respcheck"
)

// setHeaders checks the app's headers as for any response (package
// respcheck: tokens, no control characters, no hop-by-hop header) and adds
// them to h. extra lists more (canonical) names that are the server's.
func setHeaders(msg Message, h http.Header, extra map[string]bool) error {
	list, err := headerList(msg)
	if err != nil {
		return err
	}
	for _, f := range list {
		key, err := respcheck.Header(f.name, f.value)
		if err == nil && extra[key] {
			return badMessage(msg, "header %s is the server's to set", f.name)
		}
		if err != nil {
			return badMessage(msg, "%v", err)
		}
		h.Add(key, f.value)
	}
	return nil
}

// The headers of the handshake's 101 that are the server's besides the
// hop-by-hop ones: the spec names sec-websocket-protocol (the subprotocol
// key says it); the others would break the upgrade. Never modified.
var handshakeHeaders = map[string]bool{
	"Content-Length": true, "Sec-Websocket-Accept": true,
	"Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true,
}
