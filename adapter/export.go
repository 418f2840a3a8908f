package adapter

/*
#include "gowsgi.h"
*/
import "C"

import (
	"net/http"
	"runtime/cgo"
	"strings"
	"sync/atomic"
	"unsafe"
)

// gowsgiABI is the version of the C ABI in gowsgi.h. gowsgi.load refuses a
// library with another one.
const gowsgiABI = 1

// exported is the handler the library serves. It is package state because
// the C entry points of a shared library are fixed functions that cannot
// carry a Go value. Export sets it during package initialization, which the
// Go runtime completes before it runs any of those entry points.
var exported atomic.Pointer[http.Handler]

// Export makes h the handler that the shared library built from the calling
// package main serves to Python. Call it once, from an init function: a
// library's main function never runs.
func Export(h http.Handler) {
	if h == nil {
		panic("adapter: Export of a nil handler")
	}
	if !exported.CompareAndSwap(nil, &h) {
		panic("adapter: Export called twice; a library serves one handler (use an http.ServeMux)")
	}
}

// Environ returns the WSGI environ of a request served by the adapter, as
// the CGI strings that NewRequest read, one byte per character; nil for any
// other request. Treat it as read-only.
func Environ(r *http.Request) map[string]string {
	env, _ := r.Context().Value(environKey{}).(map[string]string)
	return env
}

type environKey struct{}

// gowsgi_abi returns the ABI version, or 0 if no handler was exported.
//
//export gowsgi_abi
func gowsgi_abi() C.int {
	if exported.Load() == nil {
		return 0
	}
	return gowsgiABI
}

// gowsgi_serve starts serving the request that the environ env describes
// (n bytes of NUL-separated keys and values) and waits for the handler's
// first event. It returns the request's handle.
//
//export gowsgi_serve
func gowsgi_serve(env *C.char, n C.int64_t, ev *C.gowsgi_event) C.uintptr_t {
	h := exported.Load()
	if h == nil {
		fail(ev, "no handler: call adapter.Export from an init function of package main")
		return 0
	}
	x := start(*h, parseEnviron(C.GoStringN(env, C.int(n))))
	x.next(ev)
	return C.uintptr_t(x.handle)
}

// gowsgi_next answers the handler's last GOWSGI_READ event, if reply is
// not 0, and waits for its next event. reply is 1 for n bytes of body at
// in (0 bytes at the end of the body), 2 for an error message.
//
//export gowsgi_next
func gowsgi_next(h C.uintptr_t, reply C.int, in *C.char, n C.int64_t, ev *C.gowsgi_event) C.int {
	x := lookup(h)
	if x == nil {
		fail(ev, "invalid request handle")
		return -1
	}
	if reply != 0 {
		x.answer(int(reply), unsafe.Slice((*byte)(unsafe.Pointer(in)), int(n)))
	}
	x.next(ev)
	return 0
}

// gowsgi_close ends a request whose handler had not returned: it cancels
// the request's context and invalidates the handle.
//
//export gowsgi_close
func gowsgi_close(h C.uintptr_t) {
	if x := lookup(h); x != nil {
		x.close()
	}
}

// lookup returns the exchange of handle h, or nil if h is not one: a panic
// must not cross into C, where it would kill the host.
func lookup(h C.uintptr_t) (x *exchange) {
	defer func() {
		if recover() != nil {
			x = nil
		}
	}()
	x, _ = cgo.Handle(h).Value().(*exchange)
	return x
}

func fail(ev *C.gowsgi_event, msg string) {
	*ev = C.gowsgi_event{kind: C.GOWSGI_ERROR, done: 1}
	ev.data, ev.body_len = cbytes(nil, []byte("gowsgi: "+msg))
}

// parseEnviron splits "KEY\x00VALUE\x00..." into a map whose strings share
// the memory of s.
func parseEnviron(s string) map[string]string {
	env := make(map[string]string, 32)
	for s != "" {
		k, rest, _ := strings.Cut(s, "\x00")
		v, rest2, _ := strings.Cut(rest, "\x00")
		env[k] = v
		s = rest2
	}
	return env
}

// cbytes copies head and body into one block of C memory, which Python
// releases with gowsgi_free.
func cbytes(head, body []byte) (*C.char, C.int64_t) {
	n := len(head) + len(body)
	if n == 0 {
		return nil, 0
	}
	p := C.malloc(C.size_t(n))
	b := unsafe.Slice((*byte)(p), n)
	copy(b, head)
	copy(b[len(head):], body)
	return (*C.char)(p), C.int64_t(len(body))
}
