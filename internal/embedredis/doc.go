// Package embedredis gives the one-shot commands (run, demo) a Redis of their own when no shared
// one is named: a private redis-server child with its append-only file in a state directory, so
// that an interrupted run resumes, or, when no redis-server is installed, an in-process Redis
// (miniredis) whose data ends with the process.
//
// The child listens on a unix socket only (mode 0700), is locked to its state directory so that
// two commands never share one append-only file, runs in its own process group so that Ctrl-C
// reaches the command and not the Redis it still needs to record its last outcomes, and is
// stopped with SIGTERM, which makes redis-server flush the append-only file before it exits.
package embedredis
