package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

const loopServer = "py-loop/core"

// medianCells reduces the rounds of each server × app × scenario to one
// cell: the round with the median rate. Starvation in any round wins: a
// server that left connections unanswered once does not get to hide it.
func medianCells(cells []cell) []cell {
	type key struct{ server, app, scen string }
	var order []key
	rounds := map[key][]cell{}
	for _, c := range cells {
		k := key{c.server, c.app, c.scenario}
		if _, ok := rounds[k]; !ok {
			order = append(order, k)
		}
		rounds[k] = append(rounds[k], c)
	}
	out := make([]cell, 0, len(order))
	for _, k := range order {
		rs := rounds[k]
		if len(rs) == 1 {
			out = append(out, rs[0])
			continue
		}
		worst := slices.MaxFunc(rs, func(a, b cell) int { return cmp.Compare(a.starved, b.starved) })
		if worst.starved > 0 {
			out = append(out, worst)
			continue
		}
		var ok []cell
		for _, c := range rs {
			if c.failed == "" {
				ok = append(ok, c)
			}
		}
		if len(ok) == 0 {
			out = append(out, rs[0])
			continue
		}
		slices.SortFunc(ok, func(a, b cell) int { return cmp.Compare(a.rps, b.rps) })
		m := ok[(len(ok)-1)/2]
		m.note = joinNote(m.note, fmt.Sprintf("median of %d", len(ok)))
		out = append(out, m)
	}
	return out
}

// derive adds the notes that compare a cell with another cell of the same
// server: the disturbed scenarios against that server's clean keep-alive
// hello, the mix against mix-clean.
func derive(cells []cell) {
	for i := range cells {
		c := &cells[i]
		if !c.counts() {
			continue
		}
		switch c.scenario {
		case "idle2000", "slow200":
			if clean := find(cells, c.server, c.app, "keepalive"); clean != nil && clean.rps > 0 {
				c.note = joinNote(fmt.Sprintf("%.0f%% of clean req/s", 100*c.rps/clean.rps), c.note)
			}
		case "mix":
			if clean := find(cells, c.server, c.app, "mix-clean"); clean != nil && clean.p99 > 0 {
				c.note = joinNote(fmt.Sprintf("fast p99 %.1fx clean", float64(c.p99)/float64(clean.p99)), c.note)
			}
		}
	}
}

// render prints one markdown table per app × scenario, rows in server
// order, every figure also as a ratio to the figure of the app's base
// server in the same table.
func render(cells []cell, baseOf func(app string) string, descs map[string]string) string {
	var b strings.Builder
	type key struct{ app, scen string }
	var order []key
	groups := map[key][]cell{}
	for _, c := range cells {
		k := key{c.app, c.scenario}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	for _, k := range order {
		g := groups[k]
		var bc *cell
		base := baseOf(k.app)
		for i := range g {
			if g[i].server == base && g[i].counts() {
				bc = &g[i]
			}
		}
		fmt.Fprintf(&b, "\n#### %s · %s\n%s\n\n", k.app, k.scen, descs[k.scen])
		rows := [][]string{{"server", rateUnit(k.scen), "p50", "p99", "errors", "RSS", "x req/s", "x p50", "x p99", "x RSS", "note"}}
		for _, c := range g {
			rows = append(rows, row(&c, bc))
		}
		writeTable(&b, rows)
	}
	return b.String()
}

func row(c, base *cell) []string {
	if c.failed != "" {
		f := c.failed
		if len(f) > 100 {
			f = f[:100] + "…"
		}
		if c.na {
			f = "not available: " + f
		} else {
			f = "FAILED: " + f
		}
		return []string{c.server, "-", "-", "-", "-", "-", "-", "-", "-", "-", f}
	}
	rps := fmt.Sprintf("%.0f", c.rps)
	if c.rps == 0 && c.starved == 0 {
		rps = "-" // the memory scenario measures no rate
	}
	note := c.note
	if c.starved > 0 {
		// wrk counts no error for a connection that is never answered: the
		// figure is what the served few got, and does not count.
		rps = "(" + rps + ")"
		note = joinNote(fmt.Sprintf("STARVED %d/%d", c.starved, c.conns), note)
	}
	r := []string{c.server, rps, fmtDur(c.p50), fmtDur(c.p99), fmt.Sprint(c.errors), fmtMB(c.rss)}
	if c.server == loopServer {
		r = []string{c.server, rps, "", "", "", "", ratio(c.rps, base, func(b *cell) float64 { return b.rps }), "", "", "", note}
		return r
	}
	if base == nil || !c.counts() {
		return append(r, "-", "-", "-", "-", note)
	}
	return append(r,
		ratio(c.rps, base, func(b *cell) float64 { return b.rps }),
		ratio(float64(c.p50), base, func(b *cell) float64 { return float64(b.p50) }),
		ratio(float64(c.p99), base, func(b *cell) float64 { return float64(b.p99) }),
		ratio(float64(c.rss), base, func(b *cell) float64 { return float64(b.rss) }),
		note)
}

func ratio(v float64, base *cell, f func(*cell) float64) string {
	if base == nil || f(base) == 0 || v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/f(base))
}

func writeTable(b *strings.Builder, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, s := range r {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	line := func(r []string) {
		b.WriteString("|")
		for i, s := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(s)))
			if i == 0 || i == len(r)-1 {
				b.WriteString(" " + s + pad + " |")
			} else {
				b.WriteString(" " + pad + s + " |")
			}
		}
		b.WriteString("\n")
	}
	line(rows[0])
	sep := make([]string, len(width))
	for i, w := range width {
		if i == 0 || i == len(width)-1 {
			sep[i] = strings.Repeat("-", w)
		} else {
			sep[i] = strings.Repeat("-", w-1) + ":"
		}
	}
	line(sep)
	for _, r := range rows[1:] {
		line(r)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dus", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func fmtMB(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fMB", float64(n)/(1<<20))
}
