// This file tests the report vocabulary: format names, outcome lists and the advice each
// outcome gives.

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
