// Package gunicorn is what gowsgi knows of gunicorn's configuration, so
// that a gunicorn deployment runs as it is: GUNICORN_CMD_ARGS split as a
// shell would (SplitArgs); a gunicorn config file recognised (IsConfigFile)
// and run with the app's interpreter (RunConfig), its values as flag
// values (Values); the table of gunicorn's settings and flags and what
// gowsgi does with each (Settings, LookupSetting), which README's "Coming
// from gunicorn" table mirrors; its server hooks and where they run
// (Hooks, LookupHook); its worker classes (WorkerClass).
//
// It knows names and values only: applying them to serve's flags is the
// CLI's (cmd/gowsgi), and running the hooks is package hooks' and the
// worker runtime's.
package gunicorn
