// This file tests the report vocabulary: format names, outcome lists, the cell neutralising
// that a report and ingest agree on, and the advice each outcome gives.

package jobs

import (
	"strings"
	"testing"
)

func TestParseReportFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     ReportFormat
		wantErr  bool
	}{
		{name: "csv", in: "csv", want: ReportCSV},
		{name: "json upper case", in: "JSON", want: ReportJSON},
		{name: "md", in: "md", want: ReportMarkdown},
		{name: "markdown", in: "markdown", want: ReportMarkdown},
		{name: "spaces", in: " csv ", want: ReportCSV},
		{name: "empty", in: "", wantErr: true},
		{name: "unknown", in: "xlsx", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseReportFormat(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseReportFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNeutraliseCell(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "equals", in: "=1+1", want: "'=1+1"},
		{name: "plus", in: "+1", want: "'+1"},
		{name: "minus", in: "-2+3", want: "'-2+3"},
		{name: "at", in: "@SUM(A1)", want: "'@SUM(A1)"},
		{name: "tab", in: "\t=1", want: "'\t=1"},
		{name: "carriage return", in: "\r=1", want: "'\r=1"},
		{name: "plain", in: "member-test-a", want: "member-test-a"},
		{name: "formula char later", in: "a=1", want: "a=1"},
		{name: "leading space", in: " =1", want: " =1"},
		{name: "already neutralised", in: "'=1", want: "'=1"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := NeutraliseCell(tt.in); got != tt.want {
				t.Errorf("NeutraliseCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOutcomeAdvice(t *testing.T) {
	t.Parallel()
	for _, o := range Outcomes {
		if o.Advice() == "" {
			t.Errorf("%s.Advice() = \"\", want a hint for the operator", o)
		}
	}
}

func TestParseOutcomes(t *testing.T) {
	t.Parallel()
	got, err := ParseOutcomes("not_found, failed,not_found")
	if err != nil || len(got) != 2 || got[0] != NotFound || got[1] != Failed {
		t.Errorf("ParseOutcomes(not_found, failed,not_found) = %v, %v; want [not_found failed], nil", got, err)
	}
	if _, err := ParseOutcomes("not_found,oops"); err == nil || !strings.Contains(err.Error(), `"oops"`) {
		t.Errorf("ParseOutcomes(oops) = %v, want an error naming it", err)
	}
}
