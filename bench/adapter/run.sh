#!/bin/bash
# Measure the per-request cost of the adapter: the Go hello (gohello/) and
# a plain-Python hello (pyhello.py) under the same server and load, and the
# ratio of their throughputs. Also the serving worker's RSS before and after
# each Go run, to show that memory stays flat.
#
#   bench/adapter/run.sh [seconds per run, default 5]
#
# Needs Debian's python3-gunicorn (gunicorn), python3-waitress and wrk.
# Takes about 8 x (seconds + 2) seconds; servers listen on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-5}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'kill -KILL -- -$(cat "$tmp"/pid 2>/dev/null) 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -buildmode=c-shared -o "$tmp/gohello.so" ./gohello
export GOWSGI_LIB="$tmp/gohello.so" GOWSGI_PYTHON="$(cd ../../adapter/python && pwd)"
port=$((18000 + $$ % 1000))

# rss prints the RSS in KiB of the youngest process in the server's group.
rss() {
	w=$(pgrep -n -g "$(cat "$tmp/pid")" || cat "$tmp/pid")
	awk '/VmRSS/ {print $2}' "/proc/$w/status"
}

# stop ends the server's process group: SIGINT first (uWSGI reloads on
# SIGTERM), then SIGKILL for what ignores it (a background job starts with
# SIGINT ignored, and Python then keeps it so).
stop() {
	pg=$(cat "$tmp/pid")
	kill -INT -- -"$pg" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 -- -"$pg" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL -- -"$pg" 2>/dev/null || true
	wait 2>/dev/null || true
}

# run SERVER-NAME MODULE COMMAND...: start the server, load it, and print
# requests per second.
run() {
	name=$1 module=$2
	shift 2
	port=$((port + 1)) # a fresh port: the last server may still be closing
	set -- "${@//PORT/$port}"
	setsid "$@" >"$tmp/log" 2>&1 &
	echo $! >"$tmp/pid"
	i=0
	until curl -sf "http://127.0.0.1:$port/" >/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$tmp/log" >&2; exit 1; }
		sleep 0.05
	done
	wrk -t1 -c4 -d1s "http://127.0.0.1:$port/" >/dev/null # warm up
	before=$(rss)
	rps=$(timeout $((secs + 10)) wrk -t2 -c8 -d"${secs}s" "http://127.0.0.1:$port/" |
		awk '/Requests\/sec/ {print $2}')
	reqs=$(awk -v r="$rps" -v s="$secs" 'BEGIN {printf "%d", r * s}')
	echo "$name $module rps=$rps worker_rss_kb=$before->$(rss) (~$reqs requests)" >&2
	stop
	echo "$rps"
}

bench() {
	name=$1
	shift
	p=$(run "$name" pyhello "$@" pyhello:application)
	g=$(run "$name" gohello "$@" gohello:application)
	awk -v n="$name" -v p="$p" -v g="$g" 'BEGIN {
		printf "%-18s python %8.0f req/s   go via adapter %8.0f req/s   ratio go/python %.2f   overhead %+.1f us/request\n",
			n, p, g, g / p, (1e6 / g - 1e6 / p)
	}'
}

echo "adapter overhead: Go hello via gowsgi vs plain-Python hello, wrk -t2 -c8 -d${secs}s, $(nproc) cores"
bench gunicorn-sync $py -m gunicorn -b 127.0.0.1:PORT -w 2
bench gunicorn-gthread $py -m gunicorn -b 127.0.0.1:PORT -w 2 -k gthread --threads 4
bench waitress $py -m waitress --listen=127.0.0.1:PORT --threads=4
bench uwsgi-processes uwsgi --plugin python3 --http-socket 127.0.0.1:PORT --master --processes 2 --disable-logging --module
