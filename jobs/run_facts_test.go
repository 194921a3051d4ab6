package jobs

import "testing"

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
		{"no rows", Run{Total: 0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run.Percent(); got != tc.percent {
				t.Errorf("Run{Total: %d, Done: %d}.Percent() = %d, want %d", tc.run.Total, tc.run.Done, got, tc.percent)
			}
		})
	}
}
