package runwait

import (
	"testing"

	"reactivator/jobs"
)

func TestRunCountsTextSaysAlreadyActive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  jobs.Run
		want string
	}{
		{"none active", jobs.Run{Counts: map[jobs.Outcome]int{jobs.Reactivated: 3, jobs.NotDeactivated: 2}},
			"reactivated 3, not_deactivated 2"},
		{"some active", jobs.Run{Counts: map[jobs.Outcome]int{jobs.Reactivated: 3, jobs.NotDeactivated: 2, jobs.NotFound: 1}, AlreadyActive: 1},
			"reactivated 3, not_deactivated 2 (1 already active), not_found 1"},
	}
	for _, tt := range tests {
		if got := RunCountsText(tt.run); got != tt.want {
			t.Errorf("%s: RunCountsText() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
