package wsgi

// BodyStats describes the budgets of the request bodies a Container holds
// while their exchanges run (Config.MaxMemoryBodies, MaxSpoolBytes). A
// limit of -1 is none; both are 0 in a container that holds no bodies
// (asgi.Container's Stats).
type BodyStats struct {
	MemoryUsed, MemoryLimit int64 // bytes of the bodies held in memory
	SpoolUsed, SpoolLimit   int64 // bytes of the bodies spooled to disk

	// MemoryFull counts the bodies spooled, however small, because the
	// memory budget had no room for them: not refused, but a sign that it
	// is too small for the load.
	MemoryFull int64

	// Refused counts the requests answered 503 because a budget was
	// spent, by budget: "spool".
	Refused map[string]int64
}

// bodyStats is Stats' BodyStats.
func (c *Container) bodyStats() BodyStats {
	return BodyStats{
		MemoryUsed: c.bodies.used.Load(), MemoryLimit: c.bodies.limit,
		SpoolUsed: c.spool.used.Load(), SpoolLimit: c.spool.limit,
		MemoryFull: c.bodies.full.Load(),
		Refused:    map[string]int64{"spool": c.spool.refused.Load()},
	}
}
