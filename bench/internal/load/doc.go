// Package load holds the harness's own load generators, for what wrk cannot
// see: per-connection accounting (a server that answers 2 of 64 keep-alive
// connections looks healthy to wrk), idle keep-alive connections, slow
// clients, and a fast/slow request mix whose latencies are kept apart.
//
// Everything here speaks plain HTTP/1.1 over raw TCP and is bounded by a
// context or a deadline; nothing retries forever.
package load
