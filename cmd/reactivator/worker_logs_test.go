package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/internal/redistest"
)

// A worker that loses Redis keeps trying without flooding its log: each distinct warning is
// written once, then once per --log-repeat-interval (a minute by default) with how often it
// recurred meanwhile. Without the throttle, asynq and go-redis write several lines a second.
func TestWorkerWithoutRedisLogsSparingly(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	// count runs a worker on a Redis of its own, stops that Redis, and counts the warnings and
	// errors the worker writes over window; repeats counts those that say they recurred.
	count := func(interval string, window time.Duration) (lines, repeats, most int, stderr string) {
		t.Helper()
		srv, err := redistest.Start(t.TempDir(), redistest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Stop()
		w.setenv("REDIS_URL", srv.URL(0))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan result, 1)
		go func() {
			done <- w.runCtx(ctx, "worker", "--log-format", "json", "--log-repeat-interval", interval, "--shutdown-timeout", "1s")
		}()
		insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: srv.Addr})
		for deadline := time.Now().Add(20 * time.Second); ; {
			if s, err := insp.Servers(); err == nil && len(s) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker did not start serving within 20s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		insp.Close()
		srv.Stop()
		time.Sleep(window)
		cancel()
		res := <-done
		seen := map[string]int{}
		for _, l := range strings.Split(res.stderr, "\n") {
			if !strings.HasPrefix(l, "{") {
				if strings.Contains(l, "pool.go") {
					t.Errorf("go-redis wrote a raw line under --log-format json: %q", l)
				}
				continue
			}
			var rec struct{ Level, Msg, Component string }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Errorf("log line %q: %v", l, err)
			}
			if rec.Level == "WARN" || rec.Level == "ERROR" {
				lines++
				if strings.Contains(l, `"still_happening":true`) {
					repeats++
				}
				k := rec.Level + " " + rec.Component + " " + rec.Msg
				seen[k]++
				most = max(most, seen[k])
			}
		}
		return lines, repeats, most, res.stderr
	}
	const window = 3 * time.Second
	// The throttle off, in effect: the same warnings again and again.
	flood, _, floodMost, floodLog := count("1ns", window)
	if floodMost < 2 {
		t.Fatalf("unthrottled worker without Redis repeated no warning in %s (%d lines); the test shows nothing:\n%s", window, flood, floodLog)
	}
	quiet, _, quietMost, quietLog := count("1h", window)
	t.Logf("warnings and errors in %s without Redis: %d unthrottled (one of them %d times), %d throttled", window, flood, floodMost, quiet)
	if quiet == 0 || quietMost != 1 {
		t.Errorf("worker without Redis wrote %d warnings in %s throttled, one of them %d times; want each distinct one once\n%s",
			quiet, window, quietMost, quietLog)
	}
	// The once-an-interval line with its count (still_happening=true, repeated=N) is
	// internal/logthrottle's TestRepeatsAreWrittenOncePerInterval, on an injected clock.
}
