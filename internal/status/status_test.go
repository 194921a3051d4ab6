package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"reactivator/jobs"
)

// TestJSONDocument holds `status --json` to its documented fields: what the store keeps for
// itself (max_line, columns, extras) is not output.
func TestJSONDocument(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	run := jobs.Run{ID: "stytch-1", Provider: jobs.Stytch, File: "a.csv", Columns: []string{"email"}, CreatedAt: at,
		Total: 4, Done: 3, Counts: map[jobs.Outcome]int{jobs.Reactivated: 2, jobs.NotFound: 1}, State: jobs.RunQueued,
		MaxLine: 5, Extra: map[string]string{"report_path": "/x"}}
	v := New([]jobs.Run{run}, map[jobs.Provider]jobs.Pause{jobs.Stytch: {Reason: "401", At: at}}, false)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs   []map[string]any `json:"runs"`
		Paused []map[string]any `json:"paused"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc.Runs[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"action", "already_active", "counts", "created_at", "done", "failures", "file", "id", "paused", "pending", "provider", "rate", "state", "status", "total"}
	if !slices.Equal(keys, want) {
		t.Errorf("status JSON run keys = %v, want %v", keys, want)
	}
	if got := doc.Runs[0]["action"]; got != "reactivate" {
		t.Errorf("action = %v, want reactivate", got)
	}
	if got := doc.Runs[0]["pending"]; got != 1.0 {
		t.Errorf("pending = %v, want 1", got)
	}
	if len(doc.Paused) != 1 || doc.Paused[0]["provider"] != "stytch" {
		t.Errorf("paused = %v, want stytch with its provider named", doc.Paused)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		o         Options
		wantLimit int
		wantErr   bool
	}{
		{name: "the default", o: Options{Limit: DefaultLimit}, wantLimit: DefaultLimit},
		{name: "--all", o: Options{Limit: DefaultLimit, All: true}, wantLimit: 0},
		{name: "--limit 0", o: Options{Limit: 0}, wantErr: true},
		{name: "--limit 0 --all", o: Options{Limit: 0, All: true}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.o.Validate()
			if tt.wantErr != (err != nil) || err == nil && tt.o.Limit != tt.wantLimit {
				t.Errorf("Validate() = %v, Limit %d, want an error: %v, Limit %d", err, tt.o.Limit, tt.wantErr, tt.wantLimit)
			}
		})
	}
}

// TestUnknownRunIsStillRunNotFound: the error that tells the operator how to find run ids
// still says, to errors.Is, that the store has no such run; other errors pass unchanged.
func TestUnknownRunIsStillRunNotFound(t *testing.T) {
	err := UnknownRun("zitadel-0000", fmt.Errorf("read run: %w", jobs.ErrRunNotFound))
	if !errors.Is(err, jobs.ErrRunNotFound) || !strings.Contains(err.Error(), `no run "zitadel-0000"`) || !strings.Contains(err.Error(), "reactivator status") {
		t.Errorf("UnknownRun = %v, want ErrRunNotFound naming the run and reactivator status", err)
	}
	other := errors.New("redis: connection refused")
	if got := UnknownRun("x", other); got != other {
		t.Errorf("UnknownRun(other) = %v, want it unchanged", got)
	}
}

// TestPausesSayWhatToFix: a pause for want of a role tells to grant it, in the status page and
// the watch lines; another pause tells to fix the cause.
func TestPausesSayWhatToFix(t *testing.T) {
	t.Parallel()
	const grant = "ORG_USER_MANAGER (in the organisations of the rows) or IAM_USER_MANAGER"
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		pause jobs.Pause
		want  string
	}{
		{"missing role", jobs.Pause{Provider: jobs.Zitadel, Reason: "the ZITADEL service user has no role at all", At: at, Grant: grant},
			"grant the service user " + grant + ", then: reactivator resume zitadel"},
		{"credentials", jobs.Pause{Provider: jobs.Stytch, Reason: "HTTP 401 unauthorized_credentials", At: at},
			"fix the cause, then: reactivator resume stytch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var page strings.Builder
			writePauses(&page, []jobs.Pause{tt.pause})
			if !strings.Contains(page.String(), tt.want) {
				t.Errorf("writePauses(%+v) = %q, want %q in it", tt.pause, page.String(), tt.want)
			}
			var lines strings.Builder
			wt := &Watcher{W: &lines, last: map[string]string{}}
			wt.lines(View{Paused: []jobs.Pause{tt.pause}}, at)
			if !strings.Contains(lines.String(), tt.want) {
				t.Errorf("watch line of %+v = %q, want %q in it", tt.pause, lines.String(), tt.want)
			}
		})
	}
}
