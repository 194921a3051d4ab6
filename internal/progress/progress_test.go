package progress

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"reactivator/internal/syncbuf"
)

// clock is a settable time for the Bar under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestPlainLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newClock()
	b := newBar(&buf, false, "ingest users.csv", 100, c.now, 5*time.Second)

	b.Update(0, "")
	c.add(2 * time.Second)
	b.Update(20, "reactivated 20") // within the interval: no line
	c.add(3 * time.Second)
	b.Update(50, "reactivated 49, not_found 1")
	c.add(5 * time.Second)
	b.Update(100, "reactivated 99, not_found 1")
	b.Finish()
	b.Update(100, "after finish") // ignored
	b.Finish()                    // ignored

	want := []string{
		"ingest users.csv: 0/100 (0%)",
		"ingest users.csv: 50/100 (50%), 10/s, ETA 5s, reactivated 49, not_found 1",
		"ingest users.csv: 100/100 (100%), 10/s, reactivated 99, not_found 1",
		"ingest users.csv: 100/100 (100%) in 10s, 10/s, reactivated 99, not_found 1",
	}
	got := lines(buf.String())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plain lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlainUnknownTotal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newClock()
	b := newBar(&buf, false, "run r1", 0, c.now, time.Second)
	b.Update(3, "")
	c.add(time.Minute)
	b.SetTotal(10)
	b.Update(4, "reactivated 4")
	b.Finish()
	got := lines(buf.String())
	want := []string{
		"run r1: 3 done",
		"run r1: 4/10 (40%), 1.0/min, ETA 6m0s, reactivated 4",
		"run r1: 4/10 (40%) in 1m0s, 1.0/min, reactivated 4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plain lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFinishWithoutUpdate(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprint("tty=", tty), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			b := newBar(&buf, tty, "ingest empty.csv", 0, newClock().now, time.Second)
			b.Finish()
			if tty {
				if buf.Len() != 0 {
					t.Errorf("Finish on a terminal without a total wrote %q, want nothing", buf.String())
				}
				return
			}
			if got, want := buf.String(), "ingest empty.csv: 0 done in 0s\n"; got != want {
				t.Errorf("Finish = %q, want %q", got, want)
			}
		})
	}
}

func TestTerminalBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newClock()
	b := newBar(&buf, true, "ingest users.csv", 200, c.now, time.Second)
	b.Update(0, "")
	c.add(10 * time.Second)
	b.Update(100, "reactivated 100")
	c.add(10 * time.Second)
	b.Update(150, "reactivated 149, not_found 1")
	b.Finish()
	out := buf.String()
	for _, want := range []string{"\r", "(150/200)", "ingest users.csv: 7.5/s, ETA 7s, reactivated 149, not_found 1", "|"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output %q lacks %q", out, want)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("terminal output %q does not end the line", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("terminal output %q has %d newlines, want 1 (the bar redraws in place)", out, strings.Count(out, "\n"))
	}
}

func TestTerminalBarCompletes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newClock()
	b := newBar(&buf, true, "run r1", 10, c.now, time.Second)
	b.Update(0, "")
	c.add(time.Second)
	b.Update(10, "reactivated 10")
	b.Finish()
	out := buf.String()
	if !strings.Contains(out, "100%") || !strings.Contains(out, "(10/10)") {
		t.Errorf("terminal output %q lacks 100%% and (10/10)", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("terminal output %q has %d newlines, want 1", out, strings.Count(out, "\n"))
	}
}

func TestConcurrentUpdates(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprint("tty=", tty), func(t *testing.T) {
			t.Parallel()
			var buf syncbuf.Buffer
			b := New(&buf, tty, "work", 1000)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						b.Update(g*100+i, "x")
						b.SetTotal(1000)
					}
				}()
			}
			wg.Wait()
			b.Finish()
			if !strings.Contains(buf.String(), "work") {
				t.Errorf("output %q lacks the label", buf.String())
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	rates := []struct {
		name string
		in   float64
		want string
	}{
		{"fast", 48.2, "48/s"},
		{"slow", 2.54, "2.5/s"},
		{"crawl", 0.5, "30.0/min"},
	}
	for _, tc := range rates {
		if got := formatRate(tc.in); got != tc.want {
			t.Errorf("formatRate(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	durs := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"sub-second", 1234 * time.Microsecond, "1ms"},
		{"minutes", 79*time.Second + 400*time.Millisecond, "1m19s"},
		{"hours", 2*time.Hour + 31*time.Second, "2h1m0s"},
	}
	for _, tc := range durs {
		if got := formatDuration(tc.in); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFitNeverWraps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"reactivated 76, not_deactivated 15", 20, "reactivated 76, not…"},
		{"αβγδε", 3, "αβ…"},
		{"anything", 0, ""},
	}
	for _, tt := range tests {
		if got := fit(tt.in, tt.n); got != tt.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
