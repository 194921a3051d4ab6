package worker

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

func TestLaterAttrsLogsAsWith(t *testing.T) {
	t.Parallel()
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	attrs := []slog.Attr{slog.String("provider", "stytch"), slog.String("run", "r1"), slog.Int("line", 7)}
	write := func(l *slog.Logger) {
		l.Debug("not written")
		l.Warn("taken back", "err", "boom")
		l.With("extra", 1).WithGroup("g").Info("grouped", "k", "v")
	}
	var got, want bytes.Buffer
	write(slog.New(&laterAttrs{h: slog.NewTextHandler(&got, noTime), attrs: attrs}))
	write(slog.New(slog.NewTextHandler(&want, noTime)).With(slog.String("provider", "stytch"), slog.String("run", "r1"), slog.Int("line", 7)))
	if got.String() != want.String() || want.Len() == 0 {
		t.Errorf("laterAttrs logs\n%s\nwant, as With logs\n%s", got.String(), want.String())
	}
	if (&laterAttrs{h: slog.NewTextHandler(&got, noTime)}).Enabled(context.Background(), slog.LevelDebug) {
		t.Errorf("laterAttrs.Enabled(debug) = true under an info handler, want false")
	}
}
