package dash

import (
	"strings"
	"testing"

	"reactivator/jobs"
)

// TestUndoLinksBothWays: the runs page and the run pages link a run and its undo run, and the
// undone run's page says how many accounts the undo deactivated.
func TestUndoLinksBothWays(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("orig", jobs.Stytch, mixedStytchRows(), false)
	undo, _, err := b.store.CreateUndoRun(b.ctx, "orig")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.store.Record(b.ctx, undo.ID, 2, jobs.OutcomeRecord{Outcome: jobs.Deactivated}); err != nil {
		t.Fatal(err)
	}
	_, page := b.get("/")
	for _, want := range []string{`undo of <a href="/runs/orig">orig</a>`, `undone by <a href="/runs/undo-orig">undo-orig</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("runs page lacks %q:\n%s", want, page)
		}
	}
	_, page = b.get("/runs/orig")
	if want := `Undone by <a href="/runs/undo-orig">undo-orig</a> (running): 1 of 3 accounts deactivated`; !strings.Contains(page, want) {
		t.Errorf("the undone run's page lacks %q:\n%s", want, page)
	}
	_, page = b.get("/runs/undo-orig")
	if want := `Undo of run <a href="/runs/orig">orig</a>`; !strings.Contains(page, want) {
		t.Errorf("the undo run's page lacks %q:\n%s", want, page)
	}
}
