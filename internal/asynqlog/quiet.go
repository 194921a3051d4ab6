package asynqlog

import (
	"context"
	"log/slog"
)

// Quiet returns l for the in-process worker of a one-shot command, unless l logs debug lines:
// raised to warn, and to error for asynq's own lines (component=asynq; asynq warns "retry
// exhausted" for every row that ends with a permanent outcome). They would only break a progress
// bar; the outcomes are in the summary and the report.
func Quiet(l *slog.Logger) *slog.Logger {
	if l.Enabled(context.Background(), slog.LevelDebug) {
		return l
	}
	return slog.New(quietHandler{Handler: l.Handler()})
}

// quietHandler drops records below warn, and asynq's (component=asynq) below error.
type quietHandler struct {
	slog.Handler
	asynq bool // the logger carries component=asynq
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError {
		asynqLine := h.asynq
		r.Attrs(func(at slog.Attr) bool {
			asynqLine = asynqLine || isAsynqAttr(at)
			return !asynqLine
		})
		if asynqLine {
			return nil
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	q := quietHandler{Handler: h.Handler.WithAttrs(attrs), asynq: h.asynq}
	for _, at := range attrs {
		q.asynq = q.asynq || isAsynqAttr(at)
	}
	return q
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{Handler: h.Handler.WithGroup(name), asynq: h.asynq}
}

func isAsynqAttr(at slog.Attr) bool { return at.Key == "component" && at.Value.String() == "asynq" }
