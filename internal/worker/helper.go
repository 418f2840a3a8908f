package worker

import (
	"net"
	"time"
)

// StartHelper starts a Python process that serves no requests, as the
// hooks helper (package hooks): the interpreter runs program with -c,
// given cfg.RuntimeDir and args, in cfg.Dir with cfg.Env, in its own
// process group and killed if the server dies, its output logged as a
// worker's, tagged kind and cfg.ID. Its one socket, file descriptor 3, is
// returned for the caller's own protocol; Stop shuts it for writing.
func StartHelper(cfg Config, kind, program string, args ...string) (*Process, net.Conn, error) {
	p := newProcess(cfg, kind)
	if err := p.spawn(cfg, 1, program, args...); err != nil {
		return nil, nil, err
	}
	p.started = time.Now()
	p.state.Store(int32(Ready))
	return p, p.Conns[0].nc, nil
}
