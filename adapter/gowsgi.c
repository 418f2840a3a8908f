#include "gowsgi.h"

// gowsgi_free releases an event's data. It is plain C, so calling it does
// not enter the Go runtime.
void gowsgi_free(void *p) {
	free(p);
}
