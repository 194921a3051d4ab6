// This file tests the JSON report's documented types against real reports: a report decodes
// into JSON, and each row encoded again gives the report's bytes.

package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"reactivator/jobs"
)

func TestJSONDecodesARealReport(t *testing.T) {
	t.Parallel()
	s, ctx := setupReport(t)
	fixture := stytchFixture()
	buildRun(t, s, ctx, "json-typed", jobs.Stytch, stytchColumns, fixture)
	out, sum := render(t, s, ctx, "json-typed", jobs.ReportOptions{Format: jobs.ReportJSON})

	var doc JSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("json.Decode(report into JSON) = %v\n%s", err, out)
	}
	if doc.Summary.RunID != "json-typed" || doc.Summary.Provider != jobs.Stytch || doc.Summary.Status != sum.Status ||
		doc.Summary.Rows != 12 || doc.Summary.Pending != 1 || doc.Summary.Failures != 8 || doc.Summary.Counts[jobs.NotFound] != 2 {
		t.Errorf("JSON.Summary = %+v, want run json-typed, stytch, %s, 12 rows, 1 pending, 8 failures, 2 not_found", doc.Summary, sum.Status)
	}
	if len(doc.Rows) != len(fixture) {
		t.Fatalf("JSON.Rows has %d rows, want %d", len(doc.Rows), len(fixture))
	}
	r := doc.Rows[4]
	if r.Line != 6 || r.Outcome != string(jobs.Rejected) || r.Message != fixture[4].rec.Message ||
		!slices.Equal(r.Extra.Keys, []string{"email", "input_Outcome", "note"}) || r.Extra.Get("input_Outcome") != "=1+1" {
		t.Errorf("JSON.Rows[4] = %+v, want line 6, rejected, the raw message, extra email, input_Outcome (=1+1), note in order", r)
	}

	// The types give the report's bytes back: the summary, and every row on its own line.
	lines := strings.Split(out, "\n")
	wantSummary := strings.TrimSuffix(strings.TrimPrefix(lines[0], `{"summary":`), ",")
	if b, err := json.Marshal(doc.Summary); err != nil || string(b) != wantSummary {
		t.Errorf("json.Marshal(JSON.Summary) = %s, %v; want the report's %s", b, err, wantSummary)
	}
	for i, row := range doc.Rows {
		want := strings.TrimSuffix(lines[2+i], ",")
		if b, err := json.Marshal(row); err != nil || string(b) != want {
			t.Errorf("json.Marshal(JSON.Rows[%d]) = %s, %v; want the report's %s", i, b, err, want)
		}
	}
}

func TestExtraKeepsItsOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Extra
		// out is what json.Marshal gives back: the report escapes < > & as encoding/json does.
		out string
	}{
		{name: "empty", in: `{}`, want: Extra{}, out: `{}`},
		{name: "order kept", in: `{"z":"1", "a":"<b>", "m":""}`, want: Extra{Keys: []string{"z", "a", "m"}, Values: []string{"1", "<b>", ""}},
			out: `{"z":"1","a":"\u003cb\u003e","m":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Extra
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil || !slices.Equal(got.Keys, tt.want.Keys) || !slices.Equal(got.Values, tt.want.Values) {
				t.Fatalf("json.Unmarshal(%s) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if b, err := json.Marshal(got); err != nil || string(b) != tt.out {
				t.Errorf("json.Marshal(%+v) = %s, %v; want %s", got, b, err, tt.out)
			}
		})
	}
	var e Extra
	for _, in := range []string{`[]`, `{"a":1}`, `"x"`} {
		if err := json.Unmarshal([]byte(in), &e); err == nil {
			t.Errorf("json.Unmarshal(%s into Extra) = nil, want an error: extra is an object of strings", in)
		}
	}
}
