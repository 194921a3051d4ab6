package jobs

import (
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestPickupSpecRoundTrip(t *testing.T) {
	t.Parallel()
	want := PickupSpec{Schedule: "nightly", Inbox: "/data/inbox", Pattern: "*.csv", Provider: Zitadel,
		Rate: 40, Reports: "/data/reports", Settle: 5 * time.Second}
	task, err := NewInboxPickupTask(want, asynq.Unique(time.Minute))
	if err != nil {
		t.Fatalf("NewInboxPickupTask = %v", err)
	}
	if task.Type() != TypeInboxPickup {
		t.Errorf("task type = %q, want %q", task.Type(), TypeInboxPickup)
	}
	// The payload's bytes are those the tasks of earlier versions carry.
	if got, wantJSON := string(task.Payload()), `{"schedule":"nightly","inbox":"/data/inbox","pattern":"*.csv","provider":"zitadel","rate":40,"reports":"/data/reports","settle":5000000000}`; got != wantJSON {
		t.Errorf("payload = %s, want %s", got, wantJSON)
	}
	got, err := ParseInboxPickupPayload(task)
	if err != nil || got != want {
		t.Errorf("ParseInboxPickupPayload = %+v, %v; want %+v", got, err, want)
	}
	if _, err := NewInboxPickupTask(PickupSpec{Schedule: "x"}); err == nil {
		t.Errorf("NewInboxPickupTask without inbox = nil error, want one")
	}
	// A payload with the schedule alone still parses: fields are additive.
	old, err := ParseInboxPickupPayload(asynq.NewTask(TypeInboxPickup, []byte(`{"schedule":"nightly"}`)))
	if err != nil || old.Schedule != "nightly" {
		t.Errorf("ParseInboxPickupPayload(schedule only) = %+v, %v; want schedule nightly", old, err)
	}
}

func TestPickupSpecValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec PickupSpec
		want string
	}{
		{"no inbox", PickupSpec{}, "Inbox"},
		{"bad pattern", PickupSpec{Inbox: "x", Pattern: "[a"}, "Pattern"},
		{"unknown provider", PickupSpec{Inbox: "x", Provider: "okta"}, "Provider"},
		{"negative settle", PickupSpec{Inbox: "x", Settle: -time.Second}, "negative"},
		{"negative rate", PickupSpec{Inbox: "x", Rate: -1}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.spec.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.spec, err, tc.want)
			}
		})
	}
	if err := (PickupSpec{Inbox: "x"}).Validate(); err != nil {
		t.Errorf("Validate(inbox only) = %v, want nil: every other field has a default", err)
	}
	if got := (PickupSpec{}).FilePattern(); got != "*.csv" {
		t.Errorf("FilePattern() of no pattern = %q, want *.csv", got)
	}
}
