package dash

import (
	"testing"
	"time"

	"reactivator/jobs"
)

func TestNewChart(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	minute := func(i, calls, ok, fail, active int) jobs.Minute {
		return jobs.Minute{At: t0.Add(time.Duration(i) * time.Minute), Calls: calls, AlreadyActive: active,
			Outcomes: map[jobs.Outcome]int{jobs.Reactivated: ok, jobs.NotFound: fail, jobs.NotDeactivated: active}}
	}
	finished := jobs.Run{State: jobs.RunFinished}
	tests := []struct {
		name   string
		tl     []jobs.Minute
		run    jobs.Run
		now    time.Time
		bars   int
		bucket string
		ymax   int
		rects  int
		empty  bool
		start  string
		end    string
	}{
		{name: "no timeline", empty: true, run: finished},
		{name: "gaps are filled", tl: []jobs.Minute{minute(0, 10, 8, 1, 1), minute(3, 4, 2, 2, 0)}, run: finished,
			bars: 4, bucket: "minute", ymax: 10, rects: 4, start: "10:00", end: "10:04"},
		{name: "running to now", tl: []jobs.Minute{minute(0, 3, 3, 0, 0)}, run: jobs.Run{State: jobs.RunQueued},
			now: t0.Add(5*time.Minute + 10*time.Second), bars: 6, bucket: "minute", ymax: 5, rects: 1, start: "10:00", end: "10:06"},
		{name: "long runs are bucketed", tl: []jobs.Minute{minute(0, 1, 1, 0, 0), minute(299, 1, 0, 1, 0)}, run: finished,
			bars: 75, bucket: "4 minutes", ymax: 1, rects: 2, start: "10:00", end: "15:00"},
	}
	for _, tt := range tests {
		c := newChart(tt.tl, tt.run, tt.now)
		rects := 0
		for _, b := range c.Bars {
			rects += len(b.Rects)
		}
		if c.Empty != tt.empty || len(c.Bars) != tt.bars || c.Bucket != tt.bucket && !tt.empty || c.YMax != tt.ymax && !tt.empty ||
			rects != tt.rects || c.Start != tt.start || c.End != tt.end {
			t.Errorf("%s: newChart() = empty %v, %d bars per %q, ymax %d, %d rects, %s-%s; want %v, %d per %q, %d, %d, %s-%s",
				tt.name, c.Empty, len(c.Bars), c.Bucket, c.YMax, rects, c.Start, c.End, tt.empty, tt.bars, tt.bucket, tt.ymax, tt.rects, tt.start, tt.end)
		}
	}
	// Already active rows stack with the reactivated ones (ok), not with the failures.
	c := newChart([]jobs.Minute{minute(0, 10, 0, 0, 7)}, finished, time.Time{})
	if len(c.Bars) != 1 || len(c.Bars[0].Rects) != 1 || c.Bars[0].Rects[0].Kind != jobs.ToneGood {
		t.Errorf("newChart(7 already active) = %+v, want one ok stack", c.Bars)
	}
}

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 180: 200, 501: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}
