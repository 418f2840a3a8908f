// Package examples holds the tests of the examples in its subdirectories,
// each of which runs on its own:
//
//   - hello: the smallest WSGI application, served by the gowsgi command;
//   - flask: a small Flask application, served by the gowsgi command;
//   - mixed: a Go program serving Go handlers and a Django site in one
//     http.ServeMux.
//
// The tests build the gowsgi command and the mixed program, run them as a
// user would from the repository root, and talk HTTP to them.
package examples
