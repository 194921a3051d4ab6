package jobs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestCheckLayoutRefusesAnOpenRunOfTheOldLayout: an unfinished run whose outcomes sit in the one
// hash of the earlier layout is named; the same run finished, or a run of the current layout,
// is not.
func TestCheckLayoutRefusesAnOpenRunOfTheOldLayout(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	if err := s.CheckLayout(ctx); err != nil {
		t.Fatalf("CheckLayout of an empty store = %v", err)
	}
	for _, id := range []string{"zitadel-old", "zitadel-new"} {
		newRun(t, s, ctx, id)
		if _, err := s.AddRows(ctx, id, []IngestRow{zrow(2, "1"), zrow(3, "2")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetTotal(ctx, id, 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Record(ctx, "zitadel-new", 2, OutcomeRecord{Outcome: Reactivated}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckLayout(ctx); err != nil {
		t.Fatalf("CheckLayout with runs of the current layout = %v", err)
	}
	// What an earlier version left: line 2's outcome in the run's one outcome hash.
	if err := s.rdb.HSet(ctx, legacyOutKey("zitadel-old"), "2", `{"outcome":"reactivated"}`).Err(); err != nil {
		t.Fatal(err)
	}
	var old *OldLayoutError
	if err := s.CheckLayout(ctx); !errors.As(err, &old) || len(old.Runs) != 1 || old.Runs[0] != "zitadel-old" {
		t.Fatalf("CheckLayout = %v, want an *OldLayoutError naming zitadel-old", err)
	}
	// Cancelled (which calls nothing), it is finished: nothing of it is left to call.
	if _, fin, err := s.Cancel(ctx, "zitadel-old"); err != nil || !fin {
		t.Fatalf("Cancel = finished %v, %v; want the run finished", fin, err)
	}
	if err := s.CheckLayout(ctx); err != nil {
		t.Fatalf("CheckLayout after the old run was cancelled = %v", err)
	}
}

// TestRecordScriptKeepsTheStoredOutcomeLimit: the record script sends records longer than
// maxStoredOutcome to the overflow hash; the Lua spells the number, so it must say the same.
func TestRecordScriptKeepsTheStoredOutcomeLimit(t *testing.T) {
	if want := fmt.Sprintf("#v > %d", maxStoredOutcome); !strings.Contains(luaRecord, want) {
		t.Fatalf("the record script does not test %q: keep it in step with maxStoredOutcome", want)
	}
}
