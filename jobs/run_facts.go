// This file derives what a run's counters say about its progress (see status.go for its status
// words and pending rows).

package jobs

// Percent returns the share of rows with an outcome, 0 to 100, rounded down; 0 while ingesting
// or for a run without rows.
func (r Run) Percent() int {
	if r.Total <= 0 {
		return 0
	}
	return min(100, r.Done*100/r.Total)
}
