// This file checks the facts a run derives from its counters.

package jobs

import (
	"testing"
	"time"
)

func TestRunPercent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		run     Run
		percent int
	}{
		{"ingesting", Run{Total: -1, Done: 3}, 0},
		{"a quarter", Run{Total: 8, Done: 2}, 25},
		{"rounded down", Run{Total: 8, Done: 5}, 62},
		{"all", Run{Total: 8, Done: 8}, 100},
		{"no rows", Run{Total: 0}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run.Percent(); got != tc.percent {
				t.Errorf("Run{Total: %d, Done: %d}.Percent() = %d, want %d", tc.run.Total, tc.run.Done, got, tc.percent)
			}
		})
	}
}

func TestRunSpanAndRate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		run  Run
		span time.Duration
		rate float64
	}{
		{"no call yet", Run{Done: 0, LastOutcomeAt: t0}, 0, 0},
		{"no outcome after the first call", Run{Done: 1, FirstCallAt: t0, LastOutcomeAt: t0}, 0, 0},
		{"ten rows in five seconds", Run{Done: 10, FirstCallAt: t0, LastOutcomeAt: t0.Add(5 * time.Second)}, 5 * time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run.Span(); got != tc.span {
				t.Errorf("Span() = %s, want %s", got, tc.span)
			}
			if got := tc.run.Rate(); got != tc.rate {
				t.Errorf("Rate() = %g, want %g", got, tc.rate)
			}
		})
	}
}
