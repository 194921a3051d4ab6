package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"reactivator/jobs"
)

func TestParseSchedules(t *testing.T) {
	t.Parallel()
	data := `# nightly and frequent
reports: /data/reports
schedules:
  - name: nightly-zitadel
    cron: "0 3 * * *"
    inbox: /data/inbox/zitadel
    pattern: "*.csv"
    provider: zitadel
    rate: 40
  - name: often
    cron: "@every 30s"
    inbox: /data/inbox/any/
    settle: 0s
`
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	cfg, err := Parse("schedules.yaml", []byte(data), now)
	if err != nil {
		t.Fatalf("parseSchedules = %v", err)
	}
	want := Config{Reports: "/data/reports", Schedules: []Schedule{
		{Cron: "0 3 * * *", Pickup: jobs.PickupSpec{Schedule: "nightly-zitadel", Inbox: "/data/inbox/zitadel", Pattern: "*.csv",
			Provider: jobs.Zitadel, Rate: 40, Reports: "/data/reports", Settle: defaultSettle}, every: 24 * time.Hour, line: 4},
		{Cron: "@every 30s", Pickup: jobs.PickupSpec{Schedule: "often", Inbox: "/data/inbox/any", Reports: "/data/reports", Settle: 0},
			every: 30 * time.Second, line: 10},
	}}
	if fmt.Sprintf("%+v", cfg) != fmt.Sprintf("%+v", want) {
		t.Errorf("parseSchedules =\n%+v\nwant\n%+v", cfg, want)
	}
	if got := cfg.Schedules[1].UniqueFor(); got != 27*time.Second {
		t.Errorf("uniqueFor(@every 30s) = %s, want 27s", got)
	}
	if got := (Schedule{every: time.Second}).UniqueFor(); got != time.Second {
		t.Errorf("uniqueFor(@every 1s) = %s, want 1s (asynq's minimum)", got)
	}
	task, err := jobs.NewInboxPickupTask(cfg.Schedules[0].Pickup)
	if err != nil {
		t.Fatalf("NewInboxPickupTask(schedule 0) = %v", err)
	}
	p, err := jobs.ParseInboxPickupPayload(task)
	if err != nil || p != want.Schedules[0].Pickup {
		t.Errorf("the pick-up task of schedule 0 carries %+v, %v; want the schedule's pick-up %+v", p, err, want.Schedules[0].Pickup)
	}
}

func TestParseSchedulesRefusesMalformed(t *testing.T) {
	t.Parallel()
	const good = "    cron: \"@every 1m\"\n    inbox: /in\n"
	for _, tc := range []struct {
		name, data string
		want       []string // each must be in the error
	}{
		{"bad cron", "schedules:\n  - name: a\n    cron: \"0 3 * *\"\n    inbox: /in\n",
			[]string{"schedules.yaml line 3: schedules[0].cron:", `"0 3 * *"`, "5 fields"}},
		{"missing inbox", "schedules:\n  - name: a\n    cron: \"@daily\"\n",
			[]string{"line 2: schedules[0].inbox: missing"}},
		{"unknown provider", "schedules:\n  - name: a\n" + good + "    provider: okta\n",
			[]string{"line 5: schedules[0].provider:", `unknown provider "okta"`}},
		{"unknown field", "schedules:\n  - name: a\n" + good + "    inbx: /x\n",
			[]string{"line 5: schedules[0].inbx: unknown field (want name, cron, inbox"}},
		{"relative inbox", "schedules:\n  - name: a\n    cron: \"@daily\"\n    inbox: data/in\n",
			[]string{"line 4: schedules[0].inbox:", "absolute path"}},
		{"bad rate", "schedules:\n  - name: a\n" + good + "    rate: fast\n",
			[]string{"line 5: schedules[0].rate:", "positive number"}},
		{"bad settle", "schedules:\n  - name: a\n" + good + "    settle: soon\n",
			[]string{"line 5: schedules[0].settle:"}},
		{"bad pattern", "schedules:\n  - name: a\n" + good + "    pattern: \"[a\"\n",
			[]string{"line 5: schedules[0].pattern:"}},
		{"duplicate name", "schedules:\n  - name: a\n" + good + "  - name: a\n" + good,
			[]string{"line 5: schedules[1].name:", "line 2"}},
		{"second entry at fault", "schedules:\n  - name: a\n" + good + "  - name: b\n    cron: \"@every 1m\"\n    inbox: 7\n",
			[]string{"line 7: schedules[1].inbox:"}},
		{"no schedules", "reports: /r\n", []string{"line 1: schedules: missing"}},
		{"schedules not a list", "schedules: nightly\n", []string{"line 1: schedules: want a list"}},
		{"relative reports", "reports: reports\nschedules:\n  - name: a\n" + good, []string{"line 1: reports:", "absolute"}},
		{"unknown top field", "report: /r\nschedules:\n  - name: a\n" + good, []string{"line 1: report: unknown field"}},
		{"empty file", "", []string{"schedules.yaml: is empty"}},
		{"not yaml", "schedules: [\n", []string{"schedules.yaml: yaml: line"}},
		{"every fault at once", "schedules:\n  - name: a\n    cron: nope\n    inbox: /in\n    provider: okta\n",
			[]string{"line 3: schedules[0].cron", "line 5: schedules[0].provider"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("schedules.yaml", []byte(tc.data), time.Now())
			if err == nil {
				t.Fatalf("Parse(%q) = nil, want an error", tc.data)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) = %q, want it to contain %q", tc.data, err, w)
				}
			}
		})
	}
}
