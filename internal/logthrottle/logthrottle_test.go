package logthrottle

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRepeatsAreWrittenOncePerInterval(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	now := time.Unix(0, 0)
	h := New(slog.NewJSONHandler(&b, nil), time.Minute, func() time.Time { return now })
	log := slog.New(h)
	asynq := log.With("component", "asynq")
	for i := 0; i < 850; i++ { // a minute of a worker without Redis
		asynq.Error("Failed to write server state data: dial tcp 127.0.0.1:1: connect: connection refused")
		log.Warn("redis: connection pool: dial failed", "component", "go-redis")
		log.Info("task done") // info always passes
		now = now.Add(60 * time.Second / 850)
	}
	now = now.Add(time.Second)
	asynq.Error("Failed to write server state data: dial tcp 127.0.0.1:1: connect: connection refused")
	got := lines(t, &b)
	var errs, warns, infos int
	var last map[string]any
	for _, l := range got {
		switch l["level"] {
		case "ERROR":
			errs++
			last = l
		case "WARN":
			warns++
		case "INFO":
			infos++
		}
	}
	if errs != 2 || warns != 1 || infos != 850 {
		t.Errorf("a minute of repeats wrote %d errors, %d warnings, %d infos; want 2 (first, then once a minute), 1, 850", errs, warns, infos)
	}
	if last["repeated"] != float64(849) || last["still_happening"] != true || last["component"] != "asynq" {
		t.Errorf("the once-a-minute line = %v, want repeated=849 still_happening=true component=asynq", last)
	}
}

func TestDistinctMessagesAndLevelsPass(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	log := slog.New(New(slog.NewJSONHandler(&b, nil), time.Hour, nil))
	log.Error("a")
	log.Error("b")
	log.Warn("a")
	log.Error("a", "component", "x")
	log.Error("a")
	if n := len(lines(t, &b)); n != 4 {
		t.Errorf("wrote %d lines, want 4 (a, b, warn a, a of component x; the repeat held back)", n)
	}
}

func TestRedisLoggerWritesThroughSlog(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	RedisLogger{L: slog.New(slog.NewJSONHandler(&b, nil))}.Printf(context.Background(), "redis: %s:%d: %v", "pool.go", 42, "dial failed")
	got := lines(t, &b)
	if len(got) != 1 || got[0]["msg"] != "redis: pool.go:42: dial failed" || got[0]["component"] != "go-redis" || got[0]["level"] != "WARN" {
		t.Errorf("RedisLogger.Printf wrote %v, want one JSON warning from component go-redis", got)
	}
}
