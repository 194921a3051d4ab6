package jobs

import (
	"strings"
	"testing"
	"time"
)

func TestOutcomeEncodingRoundTrip(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 30, 10, 0, 0, 250e6, time.UTC)
	at := time.Date(2026, 11, 30, 12, 34, 56, 0, time.UTC)
	stamp := "9296" // 12:34:56 - 10:00:00, whole seconds, as luaRecord's stamp puts it
	cases := []OutcomeRecord{
		{Outcome: Invalid, Message: "user_id: is empty"},
		{Outcome: Reactivated, HTTPStatus: 200, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg"},
		{Outcome: Reactivated, HTTPStatus: 400, Attempts: 2, RequestID: "req-11", Reason: ReasonConfirmedOnRetry},
		{Outcome: Reactivated, Reason: ReasonAssumedOnRetry, Message: "a | in the message | twice"},
		{Outcome: NotFound, HTTPStatus: 404, Attempts: 1, RequestID: "r", Reason: "COMMAND-4M0sd", Message: "User could not be found"},
		{Outcome: Failed, Attempts: 12, Reason: "attempts_exhausted", Message: "12 failed attempts; last: timeout"},
		{Outcome: Deactivated, HTTPStatus: 0, Attempts: 1},
		{Outcome: Cancelled, Message: "run cancelled before this row was called"},
		{Outcome: Rejected, HTTPStatus: 400, RequestID: "a|b", Reason: "x"}, // kept as JSON
	}
	for _, o := range Outcomes {
		cases = append(cases, OutcomeRecord{Outcome: o, HTTPStatus: 503, Attempts: 3, RequestID: "q", Reason: "r", Message: "m"})
	}
	for _, want := range cases {
		enc := want.encode()
		got, err := decodeOutcome(stamp+enc, created)
		want.FinishedAt = at
		if err != nil || got != want {
			t.Errorf("decode(encode(%+v)) = %+v, %v (stored %q)", want, got, err, stamp+enc)
		}
	}
	if enc := (OutcomeRecord{Outcome: Reactivated, HTTPStatus: 200, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg"}).encode(); enc != "R|1|h1n0i01ksdua7m2beubg" {
		t.Errorf("a reactivated row is stored as %q, want R|1|h1n0i01ksdua7m2beubg", enc)
	}
	for _, bad := range []string{"", "12", "12?", "x"} {
		if _, err := decodeOutcome(bad, created); err == nil {
			t.Errorf("decodeOutcome(%q) = nil error, want one", bad)
		}
	}
}

// TestOutcomeBucketsStayListpack: outcomes are kept in their bucket's hash, compact enough for a
// listpack, a record too long for one in the run's overflow hash, read back whole; a row with an
// outcome keeps no attempt fields.
func TestOutcomeBucketsStayListpack(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	lines := addZitadelRows(t, s, ctx, "obuckets", 300)
	long := strings.Repeat("a long provider message ", 5)
	for _, l := range lines {
		if _, err := s.Begin(ctx, Zitadel, "obuckets", l); err != nil {
			t.Fatal(err)
		}
		o := OutcomeRecord{Outcome: Reactivated, HTTPStatus: 200, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg"}
		if l%50 == 0 {
			o = OutcomeRecord{Outcome: NotFound, HTTPStatus: 404, Attempts: 1, RequestID: "h1n0i01ksdua7m2beubg", Reason: "COMMAND-4M0sd", Message: long}
		}
		if ok, _, err := s.Record(ctx, "obuckets", l, o); err != nil || !ok {
			t.Fatalf("Record(%d) = %v, %v", l, ok, err)
		}
	}
	for _, b := range []int{0, 64, 256} {
		if enc, err := s.rdb.ObjectEncoding(ctx, outBucketKey("obuckets", b)).Result(); err != nil || enc != "listpack" {
			t.Errorf("OBJECT ENCODING of the outcomes of line %d's bucket = %q, %v; want listpack", b, enc, err)
		}
	}
	if n, err := s.rdb.Exists(ctx, attKey("obuckets")).Result(); err != nil || n != 0 {
		t.Errorf("the run keeps attempt fields after every row has its outcome (EXISTS = %d, %v)", n, err)
	}
	o, ok, err := s.Outcome(ctx, "obuckets", 100)
	if err != nil || !ok || o.Message != long || o.Outcome != NotFound || o.Reason != "COMMAND-4M0sd" {
		t.Errorf("Outcome(100) = %+v, %v, %v; want not_found with the long message", o, ok, err)
	}
	n := 0
	err = s.EachRow(ctx, "obuckets", func(r ReportRow) error {
		if r.Line%50 == 0 && r.Outcome.Outcome == NotFound {
			n++
			if r.Outcome.Message != long {
				t.Errorf("EachRow: line %d's message = %q, want the long one", r.Line, r.Outcome.Message)
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("EachRow found %d long records, %v; want some", n, err)
	}
}
