package jobs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRowValidate(t *testing.T) {
	t.Parallel()
	const org, mem = "organization-test-07971b06-ac8b-4cdb-9c15-63b17e653931", "member-test-32fc5024-9c09-4da3-bd2e-c9ce4da9375f"
	tests := []struct {
		name    string
		row     Row
		wantErr string
	}{
		{"stytch ok", Row{Provider: Stytch, OrgID: org, MemberID: mem}, ""},
		{"stytch slug org", Row{Provider: Stytch, OrgID: "acme-corp", MemberID: mem}, ""},
		{"stytch empty org", Row{Provider: Stytch, MemberID: mem}, "organization_id: is empty"},
		{"stytch empty member", Row{Provider: Stytch, OrgID: org}, "member_id: is empty"},
		{"stytch member not a member id", Row{Provider: Stytch, OrgID: org, MemberID: "bob"}, "starts with member-test- or member-live-"},
		{"stytch env mismatch", Row{Provider: Stytch, OrgID: "organization-live-07971b06", MemberID: mem}, "organization is live but member is test"},
		{"stytch slash", Row{Provider: Stytch, OrgID: "../admin", MemberID: mem}, "contains a slash"},
		{"stytch encoded slash", Row{Provider: Stytch, OrgID: "a%2Fb", MemberID: mem}, "would change the URL"},
		{"zitadel ok", Row{Provider: Zitadel, UserID: "69629012906488334"}, ""},
		{"zitadel chosen id", Row{Provider: Zitadel, UserID: "alice.smith@acme"}, ""},
		{"zitadel with org", Row{Provider: Zitadel, UserID: "1", OrgID: "2"}, ""},
		{"zitadel empty", Row{Provider: Zitadel}, "user_id: is empty"},
		{"zitadel question mark", Row{Provider: Zitadel, UserID: "1?x=1"}, "would change the URL"},
		{"zitadel hash", Row{Provider: Zitadel, UserID: "1#x"}, "would change the URL"},
		{"zitadel newline", Row{Provider: Zitadel, UserID: "1\n2"}, "control character"},
		{"zitadel space", Row{Provider: Zitadel, UserID: "1 2"}, "whitespace"},
		{"zitadel dotdot", Row{Provider: Zitadel, UserID: ".."}, "path segment"},
		{"zitadel too long", Row{Provider: Zitadel, UserID: strings.Repeat("1", 201)}, "longer than 200"},
		{"zitadel bad org", Row{Provider: Zitadel, UserID: "1", OrgID: "a/b"}, "org_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.row.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", tt.row, err)
				}
				return
			}
			var ie *InvalidIDError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate(%+v) = %v, want *InvalidIDError containing %q", tt.row, err, tt.wantErr)
			}
		})
	}
}

func TestCheckStytchEnv(t *testing.T) {
	t.Parallel()
	r := Row{Provider: Stytch, OrgID: "acme", MemberID: "member-live-1234"}
	if err := r.CheckStytchEnv("live"); err != nil {
		t.Fatalf("CheckStytchEnv(live) = %v, want nil", err)
	}
	if err := r.CheckStytchEnv("test"); err == nil || !strings.Contains(err.Error(), "live member id cannot be used with a test project") {
		t.Fatalf("CheckStytchEnv(test) = %v, want a mismatch error", err)
	}
}

func TestRowKeyAndTaskID(t *testing.T) {
	t.Parallel()
	a := Row{Line: 2, Provider: Zitadel, UserID: "1"}
	b := Row{Line: 9, Provider: Zitadel, UserID: "1"}
	c := Row{Line: 2, Provider: Zitadel, UserID: "1", OrgID: "7"}
	if a.Key() != b.Key() || a.Key() == c.Key() {
		t.Fatalf("Key: same ids on other lines must match, other ids must not: %s %s %s", a.Key(), b.Key(), c.Key())
	}
	if TaskID("run1", a) == TaskID("run2", a) {
		t.Fatal("TaskID must differ across runs")
	}
}

func TestReactivateTaskRoundTrip(t *testing.T) {
	t.Parallel()
	r := Row{Line: 7, Provider: Stytch, OrgID: "acme", MemberID: "member-test-1"}
	task, err := NewReactivateTask("run1", r, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeReactivateStytch {
		t.Fatalf("Type() = %s, want %s", task.Type(), TypeReactivateStytch)
	}
	p, got, err := ParseReactivatePayload(task)
	if err != nil || got != r || p.RunID != "run1" || p.QueuedAt != 1700000000 {
		t.Fatalf("ParseReactivatePayload = %+v %+v %v, want row %+v of run1", p, got, err, r)
	}
	if _, err := NewReactivateTask("run1", Row{Line: 2, Provider: Zitadel, UserID: "a/b"}, time.Now()); err == nil {
		t.Fatal("NewReactivateTask(bad id) = nil error, want refusal")
	}
}
