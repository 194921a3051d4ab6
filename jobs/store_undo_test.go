package jobs

import (
	"errors"
	"fmt"
	"testing"
)

// finishedMixedRun records a finished run r whose lines 2-7 ended reactivated, reactivated
// (confirmed_on_retry), not_deactivated/already_active, not_found, failed and reactivated
// (assumed_on_retry); line 8 is invalid.
func finishedMixedRun(t *testing.T, s *Store, id string) {
	t.Helper()
	ctx := t.Context()
	newRun(t, s, ctx, id)
	rows := []IngestRow{zrow(2, "200"), zrow(3, "300"), zrow(4, "400"), zrow(5, "500"), zrow(6, "600"), zrow(7, "700"),
		{Row: Row{Line: 8, Provider: Zitadel}, Input: []string{"", "", ""}, Invalid: "user_id: is empty"}}
	for i := range rows {
		rows[i].Input = append(rows[i].Input, fmt.Sprintf("u%d@example.com", rows[i].Row.Line))
	}
	if _, err := s.AddRows(ctx, id, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, id, len(rows)); err != nil {
		t.Fatal(err)
	}
	for line, rec := range map[int]OutcomeRecord{
		2: {Outcome: Reactivated}, 3: {Outcome: Reactivated, Reason: ReasonConfirmedOnRetry},
		4: {Outcome: NotDeactivated, Reason: ReasonAlreadyActive}, 5: {Outcome: NotFound}, 6: {Outcome: Failed},
		7: {Outcome: Reactivated, Reason: ReasonAssumedOnRetry},
	} {
		if _, _, err := s.Record(ctx, id, line, rec); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCreateUndoRunTakesOnlyReactivatedRows(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	finishedMixedRun(t, s, "mixed")
	undo, created, err := s.CreateUndoRun(ctx, "mixed")
	if err != nil || !created {
		t.Fatalf("CreateUndoRun(mixed) = created %v, %v; want true, nil", created, err)
	}
	if undo.ID != "undo-mixed" || undo.Action != ActionDeactivate || undo.UndoOf != "mixed" || undo.Total != 3 || undo.Provider != Zitadel {
		t.Fatalf("CreateUndoRun(mixed) = %+v, want undo-mixed deactivating the 3 reactivated rows of mixed", undo)
	}
	var got []string
	err = s.EachRow(ctx, "undo-mixed", func(r ReportRow) error {
		got = append(got, fmt.Sprintf("%d:%v:%v", r.Line, r.Input, r.Pending))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[2:[  200 u2@example.com]:true 3:[  300 u3@example.com]:true 7:[  700 u7@example.com]:true]"
	if fmt.Sprint(got) != want {
		t.Errorf("rows of undo-mixed = %v, want %v", got, want)
	}
	orig, err := s.Run(ctx, "mixed")
	if err != nil || orig.UndoneBy != "undo-mixed" || orig.Action != ActionReactivate {
		t.Errorf("Run(mixed) = undone by %q, action %q, %v; want undo-mixed, reactivate", orig.UndoneBy, orig.Action, err)
	}
	ids, err := s.WindowRuns(ctx, Zitadel, 10)
	if err != nil || fmt.Sprint(ids) != "[undo-mixed]" {
		t.Errorf("WindowRuns(zitadel) = %v, %v; want [undo-mixed]", ids, err)
	}
	// The window hands out exactly those rows.
	c, err := s.ClaimRows(ctx, Zitadel, "undo-mixed", 10)
	if err != nil || len(c.Rows) != 3 || c.Rows[2].UserID != "700" {
		t.Errorf("ClaimRows(undo-mixed) = %+v, %v; want the 3 rows", c, err)
	}

	// Again: the same undo run, unchanged.
	again, created, err := s.CreateUndoRun(ctx, "mixed")
	if err != nil || created || again.ID != "undo-mixed" || again.Total != 3 {
		t.Errorf("CreateUndoRun(mixed) again = %+v, created %v, %v; want the same run, not created", again, created, err)
	}
}

func TestCreateUndoRunRefusals(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	finishedMixedRun(t, s, "done")
	newRun(t, s, ctx, "working")
	if _, err := s.AddRows(ctx, "working", []IngestRow{zrow(2, "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "working", 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateUndoRun(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id string
		want     error
	}{
		{"unknown", "nope", ErrRunNotFound},
		{"still working", "working", ErrRunNotFinished},
		{"undo of an undo", "undo-done", ErrUndoOfUndo},
	} {
		if _, _, err := s.CreateUndoRun(ctx, tc.id); !errors.Is(err, tc.want) {
			t.Errorf("%s: CreateUndoRun(%s) = %v, want %v", tc.name, tc.id, err, tc.want)
		}
	}
	if _, err := s.Run(ctx, "undo-working"); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("Run(undo-working) = %v, want %v: a refused undo creates nothing", err, ErrRunNotFound)
	}
}

func TestCreateUndoRunOfNothing(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	newRun(t, s, ctx, "none")
	if _, err := s.AddRows(ctx, "none", []IngestRow{zrow(2, "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTotal(ctx, "none", 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(ctx, "none", 2, OutcomeRecord{Outcome: NotFound}); err != nil {
		t.Fatal(err)
	}
	undo, _, err := s.CreateUndoRun(ctx, "none")
	if err != nil || undo.Total != 0 || undo.State != RunFinished {
		t.Errorf("CreateUndoRun(none) = %+v, %v; want a finished run of 0 rows", undo, err)
	}
}

func TestUndoOutcomesAreNotFailures(t *testing.T) {
	t.Parallel()
	for _, o := range []Outcome{Deactivated, NotActive} {
		if o.Permanent() || !o.Valid() || o.Advice() == "" {
			t.Errorf("%s: Permanent() = %v, Valid() = %v, Advice() = %q; want false, true, a hint", o, o.Permanent(), o.Valid(), o.Advice())
		}
	}
	for c, want := range map[Class]Outcome{ClassDeactivated: Deactivated, ClassNotActive: NotActive} {
		if got, final := c.Outcome(); !final || got != want {
			t.Errorf("%s.Outcome() = %s, %v; want %s, true", c, got, final, want)
		}
	}
	if r := (Run{Counts: map[Outcome]int{Deactivated: 3, NotActive: 1, NotFound: 1}}); r.Failures() != 1 {
		t.Errorf("Failures() = %d, want 1 (deactivated and not_active are not failures)", r.Failures())
	}
}
