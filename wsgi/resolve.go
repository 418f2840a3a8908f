package wsgi

// Resolve returns cfg with every default filled in, as NewContainer uses
// it (the interpreter found, Workers counted, each limit set), or an error
// naming the field that is wrong. Package asgi resolves the Config its
// own embeds with it.
func (cfg Config) Resolve() (Config, error) { return cfg.resolve() }

// WorkerEnv returns the environment of the workers of cfg: the server's,
// then Env.
func (cfg Config) WorkerEnv() []string { return cfg.workerEnv() }
