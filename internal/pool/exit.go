package pool

import "github.com/gowsgi/gowsgi/internal/worker"

// watchExit calls Config.Exited once proc has ended, as gunicorn's
// child_exit hook runs: after a worker died, was recycled or replaced, or
// stopped with the pool. The pool's Stop and Close do not wait for it.
func (p *Pool) watchExit(proc *worker.Process) {
	if p.cfg.Exited == nil {
		return
	}
	go func() {
		<-proc.Done()
		p.cfg.Exited(proc)
	}()
}
