// Package console gives a command its standard streams: writers that keep lines whole when
// several goroutines write (Sync), whether a stream is a terminal (IsTerminal), and the
// process's logger in text or JSON with repeated lines throttled (Logger).
package console

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"reactivator/internal/logthrottle"
	"reactivator/internal/progress"
)

// Sync returns w with its writes serialised.
func Sync(w io.Writer) io.Writer { return &syncWriter{w: w} }

// syncWriter serialises writes to one stream.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Fd returns the file descriptor of the stream behind s, so terminal checks see through it; a
// stream that is no file gives an invalid descriptor.
func (s *syncWriter) Fd() uintptr {
	if f, ok := s.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// IsTerminal reports whether w (seen through Sync) is a terminal.
func IsTerminal(w io.Writer) bool {
	if sw, ok := w.(*syncWriter); ok {
		w = sw.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Bars returns what makes a progress reporter on w: a bar when w is a terminal, plain lines
// otherwise (progress.New).
func Bars(w io.Writer) func(label string, total int) *progress.Bar {
	return func(label string, total int) *progress.Bar { return progress.New(w, IsTerminal(w), label, total) }
}

// TerminalReader is a stdin that says whether it is a terminal (tests answer a confirmation
// through one).
type TerminalReader interface{ IsTerminal() bool }

// InIsTerminal reports whether the stdin r is a terminal.
func InIsTerminal(r io.Reader) bool {
	if t, ok := r.(TerminalReader); ok {
		return t.IsTerminal()
	}
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Logger returns the logger that writes to w: level is debug, info, warn or error; format is
// text or json, "" is text on a terminal and json otherwise. A repeating warning or error is
// written once, then at most once per every (logthrottle), with how often it happened.
func Logger(w io.Writer, format, level string, every time.Duration) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	f := format
	if f == "" {
		f = "json"
		if IsTerminal(w) {
			f = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch f {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	return slog.New(logthrottle.New(h, every, nil)), nil
}
