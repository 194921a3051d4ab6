package jobs

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestInboxPickupPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	want := InboxPickupPayload{Schedule: "nightly", Inbox: "/data/inbox", Pattern: "*.csv", Provider: Zitadel,
		Rate: 40, Reports: "/data/reports", Settle: 5 * time.Second}
	task, err := NewInboxPickupTaskFor(want, asynq.Unique(time.Minute))
	if err != nil {
		t.Fatalf("NewInboxPickupTaskFor = %v", err)
	}
	if task.Type() != TypeInboxPickup {
		t.Errorf("task type = %q, want %q", task.Type(), TypeInboxPickup)
	}
	got, err := ParseInboxPickupPayload(task)
	if err != nil || got != want {
		t.Errorf("ParseInboxPickupPayload = %+v, %v; want %+v", got, err, want)
	}
	if _, err := NewInboxPickupTaskFor(InboxPickupPayload{Schedule: "x"}); err == nil {
		t.Errorf("NewInboxPickupTaskFor without inbox = nil error, want one")
	}
	// A payload with the schedule alone still parses: fields are additive.
	old, err := ParseInboxPickupPayload(asynq.NewTask(TypeInboxPickup, []byte(`{"schedule":"nightly"}`)))
	if err != nil || old.Schedule != "nightly" {
		t.Errorf("ParseInboxPickupPayload(schedule only) = %+v, %v; want schedule nightly", old, err)
	}
}
