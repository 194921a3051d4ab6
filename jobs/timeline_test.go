package jobs

import (
	"testing"
	"time"
)

func TestTimelineCountsCallsAndOutcomesPerMinute(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	now := time.Date(2026, 11, 30, 12, 0, 30, 0, time.UTC)
	s.now = func() time.Time { return now }
	newRun(t, s, ctx, "tl")
	rows := []IngestRow{zrow(2, "100"), zrow(3, "200"), zrow(4, "300"), zrow(5, "100"),
		{Row: Row{Line: 6, Provider: Zitadel}, Input: []string{"", "", ""}, Invalid: "user_id: is empty"}}
	if _, err := s.AddRows(ctx, "tl", rows); err != nil {
		t.Fatal(err)
	}
	for _, line := range []int{2, 3, 4} {
		if _, err := s.Begin(ctx, Zitadel, "tl", line); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EndAttempt(ctx, "tl", 4, false); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := s.Begin(ctx, Zitadel, "tl", 4); err != nil {
		t.Fatal(err)
	}
	for line, o := range map[int]OutcomeRecord{
		2: {Outcome: Reactivated},
		3: {Outcome: NotDeactivated, Reason: ReasonAlreadyActive},
		4: {Outcome: NotDeactivated, Reason: ReasonLocked},
	} {
		if _, _, err := s.Record(ctx, "tl", line, o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Timeline(ctx, "tl")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Timeline() = %+v, want 2 minutes", got)
	}
	first, second := got[0], got[1]
	if want := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC); !first.At.Equal(want) || first.Calls != 3 ||
		first.Outcomes[Invalid] != 1 || first.Outcomes[Duplicate] != 1 || len(first.Outcomes) != 2 {
		t.Errorf("Timeline() minute 1 = %+v, want at %v, 3 calls, 1 invalid, 1 duplicate", first, want)
	}
	if second.Calls != 1 || second.Outcomes[Reactivated] != 1 || second.Outcomes[NotDeactivated] != 2 || second.AlreadyActive != 1 {
		t.Errorf("Timeline() minute 2 = %+v, want 1 call, 1 reactivated, 2 not_deactivated of which 1 already active", second)
	}
	tones := second.Tones()
	if tones[ToneGood] != 2 || tones[ToneBad] != 1 {
		t.Errorf("Tones() of minute 2 = %v, want 2 ok (reactivated, already active), 1 fail (locked)", tones)
	}
	ttl, err := s.rdb.PTTL(ctx, minutesKey("tl")).Result()
	if err != nil || ttl <= 0 || ttl > timelineTTL {
		t.Errorf("PTTL(timeline) = %v, %v; want an expiry up to %v", ttl, err, timelineTTL)
	}
}

func TestRunStatusWords(t *testing.T) {
	t.Parallel()
	at := time.Unix(1, 0)
	tests := []struct {
		name   string
		run    Run
		paused bool
		want   Status
	}{
		{name: "ingesting", run: Run{State: RunIngesting, Total: -1}, want: StatusIngesting},
		{name: "queued, no call yet", run: Run{State: RunQueued, Total: 3}, want: StatusQueued},
		{name: "rows being worked", run: Run{State: RunQueued, Total: 3, Done: 1, FirstCallAt: at}, want: StatusRunning},
		{name: "provider paused", run: Run{State: RunQueued, Total: 3, FirstCallAt: at}, paused: true, want: StatusPaused},
		{name: "held by a note", run: Run{State: RunQueued, Total: 3, Note: "stytch is paused"}, want: StatusPaused},
		{name: "cancelling", run: Run{State: RunQueued, Total: 3, Cancelled: true}, paused: true, want: StatusCancelling},
		{name: "cancelled", run: Run{State: RunFinished, Cancelled: true}, want: StatusCancelled},
		{name: "finished, provider paused since", run: Run{State: RunFinished}, paused: true, want: StatusFinished},
	}
	for _, tt := range tests {
		if got := tt.run.Status(tt.paused); got != tt.want {
			t.Errorf("%s: Run.Status(%v) = %s, want %s", tt.name, tt.paused, got, tt.want)
		}
	}
}

func TestToneOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o      Outcome
		reason string
		want   Tone
	}{
		{Reactivated, "", ToneGood},
		{Reactivated, ReasonConfirmedOnRetry, ToneGood},
		{NotDeactivated, ReasonAlreadyActive, ToneGood},
		{NotDeactivated, ReasonLocked, ToneBad},
		{NotDeactivated, "", ToneBad},
		{Duplicate, "", ToneNeutral},
		{NotFound, "", ToneBad},
		{Cancelled, "", ToneBad},
	}
	for _, tt := range tests {
		if got := ToneOf(tt.o, tt.reason); got != tt.want {
			t.Errorf("ToneOf(%s, %q) = %s, want %s", tt.o, tt.reason, got, tt.want)
		}
	}
}
