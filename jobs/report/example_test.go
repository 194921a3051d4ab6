// This file shows report.Write and the JSON report's type on a run held in memory.

package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"reactivator/jobs"
	"reactivator/jobs/report"
)

// memory is a Source of one run, as the run store would stream it.
type memory struct {
	run  jobs.Run
	rows []jobs.ReportRow
}

func (m memory) Run(context.Context, string) (jobs.Run, error) { return m.run, nil }

func (m memory) Paused(context.Context) (map[jobs.Provider]jobs.Pause, error) { return nil, nil }

func (m memory) EachRow(_ context.Context, _ string, fn func(jobs.ReportRow) error) error {
	for _, r := range m.rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func example() memory {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return memory{
		run: jobs.Run{ID: "zitadel-81be07c2d9aa", Provider: jobs.Zitadel, File: "users.csv", State: jobs.RunFinished,
			Total: 2, Done: 2, Columns: []string{"email"}, Counts: map[jobs.Outcome]int{jobs.Reactivated: 1, jobs.NotFound: 1},
			CreatedAt: at, FinishedAt: at},
		rows: []jobs.ReportRow{
			{Line: 2, Provider: jobs.Zitadel, Input: []string{"", "", "2685100", "ada@example.com"},
				Outcome: jobs.OutcomeRecord{Outcome: jobs.Reactivated, HTTPStatus: 200, Attempts: 1, FinishedAt: at}},
			{Line: 3, Provider: jobs.Zitadel, Input: []string{"", "", "2685101", "=bob@example.com"},
				Outcome: jobs.OutcomeRecord{Outcome: jobs.NotFound, HTTPStatus: 404, Attempts: 1, FinishedAt: at, Message: "user not found"}},
		},
	}
}

// Write renders a run's report; the CSV neutralises a cell a spreadsheet would run as a formula.
func ExampleWrite() {
	sum, err := report.Write(context.Background(), os.Stdout, example(), "zitadel-81be07c2d9aa", jobs.ReportOptions{})
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(sum.Written, "rows,", sum.Failures, "failure")
	// Output:
	// line,provider,organization_id,member_id,user_id,outcome,reason,http_status,request_id,attempts,finished_at,message,email
	// 2,zitadel,,,2685100,reactivated,,200,,1,2025-03-04T05:06:07Z,,ada@example.com
	// 3,zitadel,,,2685101,not_found,,404,,1,2025-03-04T05:06:07Z,user not found,'=bob@example.com
	// 2 rows, 1 failure
}

// A JSON report decodes into report.JSON, with the true values and the extra columns in order.
func ExampleJSON() {
	var b bytes.Buffer
	o := jobs.ReportOptions{Format: jobs.ReportJSON, FailedOnly: true}
	if _, err := report.Write(context.Background(), &b, example(), "zitadel-81be07c2d9aa", o); err != nil {
		fmt.Println(err)
	}
	var doc report.JSON
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		fmt.Println(err)
	}
	fmt.Println(doc.Summary.Status, doc.Summary.Failures, "failure of", doc.Summary.Rows, "rows")
	for _, r := range doc.Rows {
		fmt.Println(r.Line, r.UserID, r.Outcome, r.Extra.Keys, r.Extra.Get("email"))
	}
	// Output:
	// finished 1 failure of 2 rows
	// 3 2685101 not_found [email] =bob@example.com
}
