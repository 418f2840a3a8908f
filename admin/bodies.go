package admin

import (
	"math"

	"github.com/gowsgi/gowsgi/wsgi"
)

// bodyMetrics writes the request bodies' budgets (wsgi.BodyStats): the
// bytes held in memory and spooled to disk, each with its limit (+Inf for
// none), the bodies spooled for want of memory budget, and the requests
// refused because a budget was spent, by budget. A container that holds
// no bodies (an asgi.Container streams them), whose limits are both 0,
// has none of these.
func (e expo) bodyMetrics(b wsgi.BodyStats) {
	if b.MemoryLimit == 0 && b.SpoolLimit == 0 {
		return
	}
	limit := func(n int64) float64 {
		if n < 0 {
			return math.Inf(1)
		}
		return float64(n)
	}
	e.family("gowsgi_request_body_bytes", "gauge", "Bytes of the request bodies held until their worker is done with them, in memory or spooled to disk.")
	e.sample("gowsgi_request_body_bytes", labels{"store", "memory"}, float64(b.MemoryUsed))
	e.sample("gowsgi_request_body_bytes", labels{"store", "spool"}, float64(b.SpoolUsed))
	e.family("gowsgi_request_body_limit_bytes", "gauge", "The budget of gowsgi_request_body_bytes, by store (--body-memory-budget, --body-spool-limit); +Inf if none.")
	e.sample("gowsgi_request_body_limit_bytes", labels{"store", "memory"}, limit(b.MemoryLimit))
	e.sample("gowsgi_request_body_limit_bytes", labels{"store", "spool"}, limit(b.SpoolLimit))
	e.family("gowsgi_request_body_memory_full_total", "counter", "Request bodies spooled to disk, however small, because the memory budget had no room.")
	e.sample("gowsgi_request_body_memory_full_total", nil, float64(b.MemoryFull))
	e.family("gowsgi_request_body_refusals_total", "counter", "Requests answered 503 because a request body budget was spent, by budget.")
	refused := map[string]int64{"spool": 0}
	for k, v := range b.Refused {
		refused[k] = v
	}
	for _, budget := range sortedKeys(refused) {
		e.sample("gowsgi_request_body_refusals_total", labels{"budget", budget}, float64(refused[budget]))
	}
}
