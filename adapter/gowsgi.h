// The C ABI between the adapter and python/gowsgi/adapter.py, which mirrors
// it with ctypes. Change both together, and bump gowsgiABI in export.go.
#include <stdint.h>
#include <stdlib.h>

enum {
	GOWSGI_READ = 1,   // the handler reads the body: send at most want bytes
	GOWSGI_LOG = 2,    // data is a message for wsgi.errors
	GOWSGI_OUTPUT = 3, // data is the response head (if head_len > 0), then body bytes
	GOWSGI_ABORT = 4,  // the handler failed after the head was sent: drop the connection
	GOWSGI_ERROR = 5,  // data is an error message: the call itself failed
};

// A gowsgi_event is what the handler wants from Python next. Its data is
// C memory that Python copies and then releases with gowsgi_free, so that
// Python never holds a pointer into Go memory.
typedef struct {
	int32_t kind;
	int32_t done;      // the handler returned: the handle is no longer valid
	int64_t want;
	char *data;
	int64_t head_len;
	int64_t body_len;
} gowsgi_event;

void gowsgi_free(void *p);
