// Package wheel tests the wheels that scripts/wheel builds: TestMain builds
// them all into a temporary directory; TestWheels checks each one's tags,
// metadata, RECORD and binary (the right ELF machine, static, or Mach-O)
// and runs twine check; TestInstall installs the one for this machine into
// a fresh virtualenv of Debian's /usr/bin/python3 (with its system
// packages, for Flask), serves a Flask app with the installed gowsgi and no
// --python, checks over HTTP that the app runs in the virtualenv, runs
// python -m gowsgi, and uninstalls, leaving the virtualenv as it was.
//
// Building the four binaries takes a minute or two on 2 cores.
package wheel
