// Package progress reports how far a batch of work has come: a progress bar on a terminal, and
// plain, throttled lines for cron and CI logs otherwise.
//
// A Bar is fed absolute numbers (rows done so far, the per-outcome counts as text) as often as
// the caller likes; it works out the rate and the time left itself and decides when to draw:
//
//	bar := progress.New(os.Stderr, isTerminal, "ingest users.csv", total)
//	for ... {
//		bar.Update(done, "reactivated 120, not_found 3")
//	}
//	bar.Finish()
//
// On a terminal the line reads
//
//	24% |███████             | (1200/5000) ingest users.csv: 48/s, ETA 1m19s, reactivated 1100, not_found 100
//
// and elsewhere one line every PlainInterval at most, plus the final one:
//
//	ingest users.csv: 1200/5000 (24%), 48/s, ETA 1m19s, reactivated 1100, not_found 100
//	ingest users.csv: 5000/5000 (100%) in 1m44s, 48/s, reactivated 4900, not_found 100
package progress

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// PlainInterval is the least time between two plain (not terminal) progress lines.
const PlainInterval = 5 * time.Second

// redrawEvery is the least time between two redraws of the terminal bar.
const redrawEvery = 100 * time.Millisecond

// rateWindow is how far back the rate looks: long enough to smooth bursts, short enough to follow
// a change of pace (a 429 cool-down, say).
const rateWindow = 30 * time.Second

// Bar reports the progress of one batch of work to a writer. Its methods are safe for concurrent
// use; after Finish they do nothing.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	total    int
	done     int
	counts   string
	now      func() time.Time
	every    time.Duration
	start    time.Time
	lastLine time.Time
	lastDraw time.Time
	samples  []sample
	bar      *progressbar.ProgressBar
	finished bool
}

// sample is how many were done at a time, for the rate.
type sample struct {
	at   time.Time
	done int
}

// New returns a Bar writing to w: a redrawn progress bar when isTTY, plain lines otherwise.
// label names the work ("ingest users.csv"); total is how many items there are, 0 or less when
// not known yet (SetTotal tells it later). Nothing is written before the first Update.
func New(w io.Writer, isTTY bool, label string, total int) *Bar {
	return newBar(w, isTTY, label, total, time.Now, PlainInterval)
}

func newBar(w io.Writer, isTTY bool, label string, total int, now func() time.Time, every time.Duration) *Bar {
	return &Bar{w: w, tty: isTTY, label: label, total: total, now: now, every: every}
}

// SetTotal changes the number of items, when it became known or grew.
func (b *Bar) SetTotal(total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished || total == b.total {
		return
	}
	b.total = total
	if b.bar != nil && total > 0 {
		b.bar.ChangeMax(total)
	}
}

// Update records that done items are finished so far, with counts a short text of what they
// ended as ("reactivated 120, not_found 3"; may be empty), and draws when it is time to.
func (b *Bar) Update(done int, counts string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	now := b.now()
	if b.start.IsZero() {
		b.start = now
	}
	b.done, b.counts = done, counts
	b.samples = append(b.samples, sample{at: now, done: done})
	for len(b.samples) > 2 && now.Sub(b.samples[1].at) >= rateWindow {
		b.samples = b.samples[1:]
	}
	if b.tty {
		b.draw(false)
		return
	}
	if b.lastLine.IsZero() || now.Sub(b.lastLine) >= b.every {
		b.lastLine = now
		fmt.Fprintln(b.w, b.line(false))
	}
}

// Finish draws the final state and ends the line; later calls do nothing. Call it once the work
// ended, however it ended: the last line says how far it came.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.tty {
		if b.bar != nil {
			b.draw(true)
			_ = b.bar.Exit()
			fmt.Fprintln(b.w)
		}
		return
	}
	if b.start.IsZero() {
		b.start = b.now()
	}
	fmt.Fprintln(b.w, b.line(true))
}

// draw redraws the terminal bar, at most every redrawEvery unless force; it needs a known total.
func (b *Bar) draw(force bool) {
	if b.total <= 0 {
		return
	}
	now := b.now()
	if !force && b.bar != nil && b.done < b.total && now.Sub(b.lastDraw) < redrawEvery {
		return
	}
	b.lastDraw = now
	if b.bar == nil {
		b.bar = progressbar.NewOptions(b.total,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(false),
		)
	}
	desc := b.description()
	if cols := termWidth(b.w); cols > 0 {
		// Stay off the last column: a line that fills it wraps when the bar clears it.
		desc = fit(desc, cols-barPrefix(b.total)-4)
	}
	b.bar.Describe(desc)
	_ = b.bar.Set(min(b.done, b.total))
}

// description is the terminal bar's text: label, rate, time left and counts.
// barPrefix is how many columns the bar takes before its description: percent, bar, counts.
func barPrefix(total int) int {
	digits := len(strconv.Itoa(total))
	return 4 + 2 + 30 + 2 + 2*digits + 4
}

// termWidth returns the columns of the terminal behind w, 0 when unknown. w may wrap the
// terminal's file and say so with an Fd method.
func termWidth(w io.Writer) int {
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 0
}

// fit cuts s to at most n columns, ending with "…" when cut, so the bar never wraps a line
// (a wrapped line is redrawn below itself instead of in place).
func fit(s string, n int) string {
	if n < 1 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (b *Bar) description() string {
	parts := []string{}
	if r := b.rate(); r > 0 {
		parts = append(parts, formatRate(r))
		if left := b.total - b.done; b.total > 0 && left > 0 && !b.finished {
			parts = append(parts, "ETA "+formatDuration(time.Duration(float64(left)/r*float64(time.Second))))
		}
	}
	if b.counts != "" {
		parts = append(parts, b.counts)
	}
	if len(parts) == 0 {
		return b.label
	}
	return b.label + ": " + strings.Join(parts, ", ")
}

// line is one plain progress line; final says it is the last one.
func (b *Bar) line(final bool) string {
	var sb strings.Builder
	sb.WriteString(b.label)
	sb.WriteString(": ")
	if b.total > 0 {
		fmt.Fprintf(&sb, "%d/%d (%d%%)", b.done, b.total, b.done*100/b.total)
	} else {
		fmt.Fprintf(&sb, "%d done", b.done)
	}
	if final {
		fmt.Fprintf(&sb, " in %s", formatDuration(b.now().Sub(b.start)))
	}
	if r := b.rate(); r > 0 {
		sb.WriteString(", " + formatRate(r))
		if left := b.total - b.done; !final && b.total > 0 && left > 0 {
			sb.WriteString(", ETA " + formatDuration(time.Duration(float64(left)/r*float64(time.Second))))
		}
	}
	if b.counts != "" {
		sb.WriteString(", " + b.counts)
	}
	return sb.String()
}

// rate is items per second over the samples of the last rateWindow, 0 when unknown.
func (b *Bar) rate() float64 {
	if len(b.samples) < 2 {
		return 0
	}
	first, last := b.samples[0], b.samples[len(b.samples)-1]
	d := last.at.Sub(first.at).Seconds()
	if d <= 0 || last.done <= first.done {
		return 0
	}
	return float64(last.done-first.done) / d
}

// formatRate prints a rate with the precision it deserves.
func formatRate(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f/s", r)
	case r >= 1:
		return fmt.Sprintf("%.1f/s", r)
	}
	return fmt.Sprintf("%.1f/min", r*60)
}

// formatDuration rounds a duration for people: seconds under an hour, minutes above.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
