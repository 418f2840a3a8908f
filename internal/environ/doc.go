// Package environ maps between an *http.Request and the environ of PEP 3333,
// in both directions, for the two halves of gowsgi: Build and Map make the
// environ that wsgi.Container sends a Python worker for a request, and
// NewRequest makes the request that the adapter hands a Go handler for the
// environ a Python WSGI server gives it. It owns the rules they share: the
// mount point split (Mount), the header names (Content-Type is CONTENT_TYPE,
// X-Forwarded-For is HTTP_X_FORWARDED_FOR, names with "_" never pass) and
// SERVER_NAME and SERVER_PORT.
//
// The values are PEP 3333 native strings: one byte of the request per
// character, a Python str encoded as latin-1. The mapping's public contract
// is documented at wsgi.Environ and wsgi.NewRequest, which wrap Map and
// NewRequest; a change here changes that contract, so update them together.
//
// It imports only the standard library, so that the adapter, a cgo library
// loaded into a Python process, carries none of the server's pool,
// workers or embedded runtime.
package environ
