package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/oneshot"
	"reactivator/internal/providers"
	"reactivator/jobs"
)

// decodeStrict decodes one JSON document, refusing fields the documented type does not have.
func decodeStrict(t *testing.T, what, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, s)
	}
	if dec.More() {
		t.Fatalf("%s: more than one JSON document on stdout:\n%s", what, s)
	}
}

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	r := w.run("check", "--json")
	if r.code != exitOK {
		t.Fatalf("check --json = %s", r)
	}
	var doc providers.CheckResult
	decodeStrict(t, "check --json", r.stdout, &doc)
	if len(doc.Providers) != 2 || doc.Providers[0].Provider != jobs.Stytch || doc.Providers[0].Status != "ok" ||
		!strings.Contains(doc.Providers[0].Target, wProjectID) || doc.Providers[1].Status != "ok" {
		t.Errorf("check --json = %+v, want stytch and zitadel ok", doc)
	}
	w.stytch.SetSecret("secret-test-rotated-elsewhere-0123456789")
	r = w.run("check", "--json")
	decodeStrict(t, "check --json", r.stdout, &doc)
	if r.code != exitFatal || doc.Providers[0].Status != "refused" || doc.Providers[0].Message == "" || doc.Providers[1].Status != "ok" {
		t.Errorf("check --json with a refused secret = exit %d, %+v; want exit 4, stytch refused with a message", r.code, doc)
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	in := w.stytchCSV("members.csv", 4, 3)
	dir := filepath.Join(w.dir, "out") + "/"
	r := w.run("run", "--json", "--report", dir, in)
	if r.code != exitSomeFailed {
		t.Fatalf("run --json = %s", r)
	}
	var doc oneshot.Result
	decodeStrict(t, "run --json", r.stdout, &doc)
	if len(doc.Runs) != 1 {
		t.Fatalf("run --json = %+v, want one run", doc)
	}
	got := doc.Runs[0]
	if got.File != in || !strings.HasPrefix(got.RunID, "stytch-") || got.Provider != jobs.Stytch || got.Status != jobs.StatusFinished ||
		got.Rows != 4 || got.Counts[jobs.Reactivated] != 3 || got.Counts[jobs.NotFound] != 1 || got.Failures != 1 ||
		got.Report != filepath.Join(dir, "members.csv.report.csv") || got.Failed != filepath.Join(dir, "members.csv.failed.csv") {
		t.Errorf("run --json = %+v, want members.csv: 4 rows, 3 reactivated, 1 not found, its report and failed rows", got)
	}
}
