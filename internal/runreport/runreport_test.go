// This file tests how the report command's --format and --outcome are read.

package runreport

import (
	"slices"
	"testing"

	"reactivator/jobs"
)

func TestRequestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, output, format string
		formatSet            bool
		outcomes             string
		want                 jobs.ReportFormat
		wantOutcomes         []jobs.Outcome
		wantErr              bool
	}{
		{name: "default", format: "csv", want: jobs.ReportCSV},
		{name: "from the file's extension", output: "r.md", format: "csv", want: jobs.ReportMarkdown},
		{name: "--format over the extension", output: "r.md", format: "json", formatSet: true, want: jobs.ReportJSON},
		{name: "outcomes", format: "csv", outcomes: "not_found,failed", want: jobs.ReportCSV, wantOutcomes: []jobs.Outcome{"not_found", "failed"}},
		{name: "unknown format", format: "xml", formatSet: true, wantErr: true},
		{name: "unknown outcome", format: "csv", outcomes: "gone", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := Request{Output: tt.output}
			err := q.Parse(tt.format, tt.formatSet, tt.outcomes)
			if tt.wantErr != (err != nil) {
				t.Fatalf("Parse(%q, %v, %q) = %v, want an error: %v", tt.format, tt.formatSet, tt.outcomes, err, tt.wantErr)
			}
			if err == nil && (q.Report.Format != tt.want || !slices.Equal(q.Report.Outcomes, tt.wantOutcomes)) {
				t.Errorf("Parse(%q, %v, %q) = %q %v, want %q %v", tt.format, tt.formatSet, tt.outcomes, q.Report.Format, q.Report.Outcomes, tt.want, tt.wantOutcomes)
			}
		})
	}
}
