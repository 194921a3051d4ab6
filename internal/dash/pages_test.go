package dash

import (
	"testing"
	"time"

	"reactivator/jobs"
)

// TestViewRunPercent checks that the bar's percent is the run's own (jobs.Run.Percent), so a bar
// never reads 100 while a row is left, and that a run without rows reads full.
func TestViewRunPercent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  jobs.Run
		want string
	}{
		{"ingesting", jobs.Run{ID: "r", Total: -1, Done: 3, State: jobs.RunIngesting}, "0"},
		{"a quarter", jobs.Run{ID: "r", Total: 8, Done: 2, State: jobs.RunQueued}, "25"},
		{"one row left", jobs.Run{ID: "r", Total: 300, Done: 299, State: jobs.RunQueued}, "99"},
		{"all", jobs.Run{ID: "r", Total: 8, Done: 8, State: jobs.RunFinished}, "100"},
		{"no rows", jobs.Run{ID: "r", Total: 0, State: jobs.RunFinished}, "100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := viewRun(tc.run, false, nil, now).Percent; got != tc.want {
				t.Errorf("viewRun(Total %d, Done %d).Percent = %q, want %q", tc.run.Total, tc.run.Done, got, tc.want)
			}
		})
	}
}
