package asynqlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLoggerLevelsAndNoExit checks each level's line, the demoted "Retry exhausted", and that
// Fatal returns (the test would end with it otherwise).
func TestLoggerLevelsAndNoExit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Debug("not shown")
	l.Info("started")
	l.Warn("Retry exhausted for task x")
	l.Warn("slow")
	l.Error("lost redis")
	l.Fatal("cannot go on")
	got := buf.String()
	for _, want := range []string{`level=INFO msg=started component=asynq`, `level=WARN msg=slow`, `level=ERROR msg="lost redis"`, `level=ERROR msg="cannot go on"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log = %q, want it to contain %q", got, want)
		}
	}
	for _, absent := range []string{"not shown", "Retry exhausted"} {
		if strings.Contains(got, absent) {
			t.Errorf("log = %q, want no %q at info level", got, absent)
		}
	}
}

// TestQuietKeepsWarningsButAsynqsOnlyErrors checks Quiet's levels: info dropped, warn kept but
// asynq's (component=asynq) dropped, asynq's errors kept; a debug logger is left as it is.
func TestQuietKeepsWarningsButAsynqsOnlyErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	q := Quiet(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	q.Info("progress")
	q.Warn("redis slow")
	New(q).Warn("asynq warns")
	New(q).Error("asynq fails")
	q.With("component", "asynq").Warn("asynq warns again")
	got := buf.String()
	for _, want := range []string{"redis slow", "asynq fails"} {
		if !strings.Contains(got, want) {
			t.Errorf("quiet log = %q, want %q", got, want)
		}
	}
	for _, absent := range []string{"progress", "asynq warns"} {
		if strings.Contains(got, absent) {
			t.Errorf("quiet log = %q, want no %q", got, absent)
		}
	}
	debug := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if Quiet(debug) != debug {
		t.Error("Quiet(a debug logger) is not the logger itself")
	}
}
