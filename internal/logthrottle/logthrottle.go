// Package logthrottle keeps a failing dependency from flooding the log: a warning or error that
// repeats (a worker that cannot reach Redis says the same few things many times a second) is
// written once, then at most once per interval, with how often it happened meanwhile. It also
// routes go-redis's own log lines through slog, so they come out in the chosen format.
package logthrottle

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultInterval is how often a repeating warning or error is written.
const DefaultInterval = time.Minute

// maxKeys bounds the messages remembered (forgetOldest).
const maxKeys = 1024

// Handler passes records to the handler it wraps, except repeats of a warning or error written
// less than an interval ago: those are counted, and the next one written after the interval
// carries repeated=N (how many were held back) and still_happening=true. Records below warn
// level always pass. A message is one level, one text and one "component" attribute.
type Handler struct {
	next     slog.Handler
	interval time.Duration
	now      func() time.Time
	st       *state
	comp     string // the "component" attribute given by WithAttrs, if any
}

type state struct {
	mu   sync.Mutex
	seen map[string]*entry
}

type entry struct {
	last    time.Time
	skipped int
}

// New wraps next. interval 0 means DefaultInterval; now nil means time.Now.
func New(next slog.Handler, interval time.Duration, now func() time.Time) *Handler {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	return &Handler{next: next, interval: interval, now: now, st: &state{seen: map[string]*entry{}}}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	comp := h.comp
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "component" {
			comp = a.Value.String()
			return false
		}
		return true
	})
	key := r.Level.String() + "\x00" + comp + "\x00" + r.Message
	now := h.now()
	h.st.mu.Lock()
	e := h.st.seen[key]
	if e != nil && now.Sub(e.last) < h.interval {
		e.skipped++
		h.st.mu.Unlock()
		return nil
	}
	skipped := 0
	if e == nil {
		if len(h.st.seen) >= maxKeys {
			h.forgetOldest()
		}
		e = &entry{}
		h.st.seen[key] = e
	} else {
		skipped = e.skipped
	}
	e.last, e.skipped = now, 0
	h.st.mu.Unlock()
	if skipped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeated", skipped), slog.Bool("still_happening", true),
			slog.String("throttled", fmt.Sprintf("logged at most once per %s", h.interval)))
	}
	return h.next.Handle(ctx, r)
}

// forgetOldest drops the messages not written for an interval and, while more than half the
// bound are left, others (their next repeat is written at once); st.mu is held.
func (h *Handler) forgetOldest() {
	cut := h.now().Add(-h.interval)
	for k, e := range h.st.seen {
		if e.last.Before(cut) || len(h.st.seen) > maxKeys/2 {
			delete(h.st.seen, k)
		}
	}
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		if a.Key == "component" {
			c.comp = a.Value.String()
		}
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// RedisLogger is go-redis's logger (redis.SetLogger) over slog: its lines are warnings with
// component=go-redis, in the program's format, throttled like the rest.
type RedisLogger struct{ L *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (r RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.L.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
