// Package hostile holds the tests of the gowsgi command under hostile input
// and faults: a corpus of malformed HTTP requests sent over raw TCP, Python
// apps that misbehave, workers killed under load, a spool directory that
// cannot be written, too few file descriptors, slow and idle clients, and
// rolling restarts of two instances behind nginx.
//
// The tests build the real command once (TestMain) and run it as a child
// process on loopback, serving the apps in testdata/app.py with Debian's
// /usr/bin/python3. The asgi_*_test.go files show the same rules for the
// plain ASGI apps of testdata/asgiapp.py (--interface asgi): the request
// corpus, a worker killed with streams and WebSockets open, an app's
// output, slow readers and uploads, lifespan shutdown that fails. Each test is bounded in time (the package takes about
// 40 s); nginx's test skips without nginx. The fuzz targets run with
// scripts/fuzz and the soak test with scripts/soak.
package hostile
