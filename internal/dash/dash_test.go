package dash

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
	"reactivator/internal/syncbuf"
	"reactivator/jobs"
	"reactivator/jobs/report"
	"reactivator/worker"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// bundle is one test's dashboard over its own Redis database.
type bundle struct {
	t      testing.TB
	ctx    context.Context
	store  *jobs.Store
	redis  asynq.RedisClientOpt
	srv    *httptest.Server
	logs   *syncbuf.Buffer
	mu     sync.Mutex
	resume []jobs.Provider
}

// setup starts a dashboard on a fresh database. edit, when not nil, changes the config first;
// by default Resume is worker.Resume over the same Redis, recording its calls.
func setup(t testing.TB, edit func(*Config)) *bundle {
	t.Helper()
	srv := redistest.Shared(t)
	db := srv.NextDB()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: db})
	t.Cleanup(func() { _ = rdb.Close() })
	b := &bundle{t: t, ctx: context.Background(), store: jobs.NewStore(rdb),
		redis: asynq.RedisClientOpt{Addr: srv.Addr, DB: db}, logs: &syncbuf.Buffer{}}
	cfg := Config{
		Store: b.store, Redis: b.redis,
		Logger: slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Resume: func(ctx context.Context, p jobs.Provider) error {
			b.mu.Lock()
			b.resume = append(b.resume, p)
			b.mu.Unlock()
			return worker.Resume(ctx, rdb, p)
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bundle) resumed() []jobs.Provider {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]jobs.Provider(nil), b.resume...)
}

// row is one input row of a test run and the outcome it ends with (nil: still pending).
type row struct {
	org, member, user string
	invalid           string
	out               *jobs.OutcomeRecord
}

func outcome(o jobs.Outcome, status int, msg string) *jobs.OutcomeRecord {
	return &jobs.OutcomeRecord{Outcome: o, HTTPStatus: status, Attempts: 1, Message: msg, RequestID: "req-1"}
}

func stytchRow(i int, out *jobs.OutcomeRecord) row {
	return row{
		org:    "organization-test-00000000-0000-4000-8000-000000000001",
		member: fmt.Sprintf("member-test-00000000-0000-4000-8000-%012d", i),
		out:    out,
	}
}

func zitadelRow(i int, out *jobs.OutcomeRecord) row {
	return row{user: strconv.Itoa(300000000000000000 + i), out: out}
}

// buildRun records a run through the store API, as ingest and the workers would: rows on
// lines 2.., outcomes for the rows that have one, and the total (unless ingesting).
func (b *bundle) buildRun(id string, p jobs.Provider, rows []row, ingesting bool) {
	b.t.Helper()
	if _, created, err := b.store.CreateRun(b.ctx, jobs.Run{ID: id, Provider: p, File: "/data/inbox/" + id + ".csv"}); err != nil || !created {
		b.t.Fatalf("CreateRun(%s) = created %v, %v; want true, nil", id, created, err)
	}
	in := make([]jobs.IngestRow, len(rows))
	for i, r := range rows {
		in[i] = jobs.IngestRow{
			Row:     jobs.Row{Line: i + 2, Provider: p, OrgID: r.org, MemberID: r.member, UserID: r.user},
			Input:   []string{r.org, r.member, r.user},
			Invalid: r.invalid,
		}
	}
	if _, err := b.store.AddRows(b.ctx, id, in); err != nil {
		b.t.Fatalf("AddRows(%s) = %v", id, err)
	}
	for i, r := range rows {
		if r.out == nil || r.invalid != "" {
			continue
		}
		if _, err := b.store.Begin(b.ctx, jobs.Zitadel, id, i+2); err != nil {
			b.t.Fatalf("Begin(%s, %d) = %v", id, i+2, err)
		}
		if ok, _, err := b.store.Record(b.ctx, id, i+2, *r.out); err != nil || !ok {
			b.t.Fatalf("Record(%s, %d) = %v, %v; want true, nil", id, i+2, ok, err)
		}
	}
	if ingesting {
		return
	}
	if _, err := b.store.SetTotal(b.ctx, id, len(rows)); err != nil {
		b.t.Fatalf("SetTotal(%s) = %v", id, err)
	}
}

// mixedStytchRows is a finished run: 3 reactivated, 2 not_found, 1 not_deactivated, 1 invalid.
func mixedStytchRows() []row {
	return []row{
		stytchRow(1, outcome(jobs.Reactivated, 200, "")),
		stytchRow(2, outcome(jobs.NotFound, 404, "member_not_found: <script>alert(1)</script>")),
		stytchRow(3, outcome(jobs.Reactivated, 200, "")),
		stytchRow(4, outcome(jobs.NotDeactivated, 400, "member_not_deactivated")),
		{org: "organization-test-x", member: "", invalid: "member_id is empty"},
		stytchRow(6, outcome(jobs.NotFound, 404, "organization_not_found")),
		stytchRow(7, outcome(jobs.Reactivated, 200, "")),
	}
}

// get fetches path with opts applied to the request and returns the answer and its body.
func (b *bundle) do(method, path string, header http.Header) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, method, b.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, string(body)
}

func (b *bundle) get(path string) (*http.Response, string) {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil)
}

// sameOrigin is what a browser sends with a form posted from the dashboard's own page.
func (b *bundle) sameOrigin() http.Header {
	return http.Header{"Origin": {b.srv.URL}, "Sec-Fetch-Site": {"same-origin"}}
}

// runRow returns the <tr> of run id on the runs page.
func runRow(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `<tr data-run="`+id+`"`)
	if start < 0 {
		t.Fatalf("runs page has no row for run %s:\n%s", id, page)
	}
	end := strings.Index(page[start:], "</tr>")
	return page[start : start+end]
}

// badges returns the outcome counts a fragment of a page shows as badges.
func badges(html string) map[string]int {
	out := map[string]int{}
	re := regexp.MustCompile(`data-outcome="([a-z_]+)"[^>]*>[a-z_]+ <b>(\d+)</b>`)
	for _, m := range re.FindAllStringSubmatch(html, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}

func equalCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestRunsPageListsRunsWithTheirCounts(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("stytch-done", jobs.Stytch, mixedStytchRows(), false)
	b.buildRun("zitadel-busy", jobs.Zitadel, []row{
		zitadelRow(1, outcome(jobs.Reactivated, 200, "")),
		zitadelRow(2, nil),
		zitadelRow(3, nil),
		zitadelRow(4, outcome(jobs.Failed, 503, "service unavailable")),
	}, false)

	resp, page := b.get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200:\n%s", resp.StatusCode, page)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET / Content-Type = %q, want text/html; charset=utf-8", ct)
	}
	tests := []struct {
		id       string
		provider string
		counts   map[string]int
		status   string
		progress string
	}{
		{id: "stytch-done", provider: "stytch", status: "finished", progress: `<span data-field="done">7</span> / <span data-field="total">7</span>`,
			counts: map[string]int{"reactivated": 3, "not_found": 2, "not_deactivated": 1, "invalid": 1}},
		{id: "zitadel-busy", provider: "zitadel", status: "running", progress: `<span data-field="done">2</span> / <span data-field="total">4</span> · 2 pending`,
			counts: map[string]int{"reactivated": 1, "failed": 1}},
	}
	for _, tt := range tests {
		tr := runRow(t, page, tt.id)
		if got := badges(tr); !equalCounts(got, tt.counts) {
			t.Errorf("runs page counts of %s = %v, want %v", tt.id, got, tt.counts)
		}
		for _, want := range []string{
			`href="/runs/` + tt.id + `"`, `<span class="provider">` + tt.provider + `</span>`,
			`data-status="` + tt.status + `"`, tt.progress, "/data/inbox/" + tt.id + ".csv",
		} {
			if !strings.Contains(tr, want) {
				t.Errorf("runs page row of %s lacks %q:\n%s", tt.id, want, tr)
			}
		}
	}
	if !strings.Contains(page, `data-live="/api/runs" data-poll="5000"`) || strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("runs page does not poll /api/runs every 5s, or reloads itself:\n%s", page)
	}
	if first, second := strings.Index(page, `data-run="zitadel-busy"`), strings.Index(page, `data-run="stytch-done"`); first > second {
		t.Errorf("runs page lists stytch-done before zitadel-busy; want newest first")
	}
}

func TestRunsPageShowsTheRateColumn(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("done", jobs.Stytch, mixedStytchRows(), false)
	_, page := b.get("/")
	if !strings.Contains(page, "Rate") {
		t.Errorf("runs page lacks the rate column")
	}
}

// liveJSON fetches a live endpoint and decodes it.
func (b *bundle) liveJSON(path string) liveAnswer {
	b.t.Helper()
	resp, body := b.get(path)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		b.t.Fatalf("GET %s = %d %s, want 200 JSON:\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var a liveAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		b.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	return a
}

type liveAnswer struct {
	Run struct {
		Status        string `json:"status"`
		State         string `json:"state"`
		Done          int    `json:"done"`
		Failures      int    `json:"failures"`
		AlreadyActive int    `json:"already_active"`
		ETA           string `json:"eta"`
		Outcomes      []struct {
			Key  string `json:"key"`
			N    int    `json:"n"`
			Kind string `json:"kind"`
		} `json:"outcomes"`
	} `json:"run"`
	Runs []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Done   int    `json:"done"`
	} `json:"runs"`
	Failures []struct {
		Line    int    `json:"line"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	} `json:"failures"`
	Reasons  []string          `json:"reasons"`
	Timeline []jobs.Minute     `json:"timeline"`
	HTML     map[string]string `json:"html"`
}

func failureLines(a liveAnswer) string {
	var l []string
	for _, f := range a.Failures {
		l = append(l, strconv.Itoa(f.Line))
	}
	return strings.Join(l, ",")
}

// The live endpoint is what an open page polls: a row that finishes shows in its next answer.
func TestLiveRunAnswersFreshNumbersAndParts(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rows := mixedStytchRows()
	rows = append(rows, stytchRow(8, nil), stytchRow(9, nil))
	b.buildRun("busy", jobs.Stytch, rows, false)

	a := b.liveJSON("/api/runs/busy")
	if a.Run.Status != "running" || a.Run.Done != 7 || failureLines(a) != "3,5,6,7" {
		t.Errorf("GET /api/runs/busy = status %s, done %d, failures %s; want running, 7, 3,5,6,7", a.Run.Status, a.Run.Done, failureLines(a))
	}
	for _, part := range runParts {
		if _, ok := a.HTML[part]; !ok {
			t.Errorf("GET /api/runs/busy has no html part %q", part)
		}
	}
	if !strings.Contains(a.HTML["chart"], `<svg class="chart"`) || len(a.Timeline) == 0 {
		t.Errorf("GET /api/runs/busy has no chart or timeline: %d minutes, chart %q", len(a.Timeline), a.HTML["chart"])
	}
	// A row finishes as a failure, another as an already active account.
	for line, o := range map[int]jobs.OutcomeRecord{
		9:  {Outcome: jobs.UnverifiedEmail, Reason: "unverified", Message: "verify an email"},
		10: {Outcome: jobs.NotDeactivated, Reason: jobs.ReasonAlreadyActive},
	} {
		if _, err := b.store.Begin(b.ctx, jobs.Zitadel, "busy", line); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.store.Record(b.ctx, "busy", line, o); err != nil {
			t.Fatal(err)
		}
	}
	a = b.liveJSON("/api/runs/busy")
	if a.Run.Status != "finished" || a.Run.Done != 9 || failureLines(a) != "3,5,6,7,9" || a.Run.AlreadyActive != 1 {
		t.Errorf("GET /api/runs/busy after two rows = status %s, done %d, failures %s, already active %d; want finished, 9, 3,5,6,7,9, 1",
			a.Run.Status, a.Run.Done, failureLines(a), a.Run.AlreadyActive)
	}
	if !strings.Contains(a.HTML["failures"], `<tr data-line="9"`) || strings.Contains(a.HTML["failures"], `<tr data-line="10"`) {
		t.Errorf("live failures part = %s, want line 9 and not the already active line 10", a.HTML["failures"])
	}
	kinds := map[string]string{}
	for _, o := range a.Run.Outcomes {
		kinds[o.Key] = o.Kind
	}
	if kinds["already_active"] != "ok" || kinds["not_deactivated"] != "fail" || kinds["reactivated"] != "ok" || kinds["not_found"] != "fail" {
		t.Errorf("outcome colours = %v, want already_active and reactivated ok, not_deactivated (not active) and not_found fail", kinds)
	}

	runs := b.liveJSON("/api/runs")
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "finished" || !strings.Contains(runs.HTML["runs"], `data-run="busy"`) {
		t.Errorf("GET /api/runs = %+v, want run busy finished with its row", runs.Runs)
	}
	if resp, body := b.get("/api/runs/nope"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("GET /api/runs/nope = %d %s, want 404 with a JSON error", resp.StatusCode, body)
	}
}

func TestFailureFilter(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rows := mixedStytchRows()
	rows[5].out = &jobs.OutcomeRecord{Outcome: jobs.NotFound, Reason: "organization_not_found", HTTPStatus: 404, Attempts: 1}
	b.buildRun("f", jobs.Stytch, rows, false)
	tests := []struct {
		query, want string
	}{
		{"", "3,5,6,7"},
		{"?outcome=not_found", "3,7"},
		{"?outcome=not_found&reason=organization_not_found", "7"},
		{"?reason=organization_not_found", "7"},
		{"?q=8000-000000000006", "7"},
		{"?q=ORGANIZATION-TEST-X", "6"},
		{"?q=5", "5"},
		{"?q=nothing-like-it", ""},
		{"?outcome=bogus", "3,5,6,7"},
	}
	for _, tt := range tests {
		a := b.liveJSON("/api/runs/f" + tt.query)
		if got := failureLines(a); got != tt.want {
			t.Errorf("GET /api/runs/f%s failures = %q, want %q", tt.query, got, tt.want)
		}
		_, page := b.get("/runs/f" + tt.query)
		var lines []string
		for _, m := range regexp.MustCompile(`<tr data-line="(\d+)"`).FindAllStringSubmatch(page, -1) {
			lines = append(lines, m[1])
		}
		if got := strings.Join(lines, ","); got != tt.want {
			t.Errorf("GET /runs/f%s failures = %q, want %q", tt.query, got, tt.want)
		}
	}
	a := b.liveJSON("/api/runs/f")
	if strings.Join(a.Reasons, ",") != "organization_not_found" {
		t.Errorf("reasons to filter by = %v, want [organization_not_found]", a.Reasons)
	}
}

func TestRunsPageEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	resp, page := b.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "No runs yet") {
		t.Errorf("GET / on an empty store = %d, want 200 saying there are no runs:\n%s", resp.StatusCode, page)
	}
}

func TestRunPageFailureTable(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("stytch-done", jobs.Stytch, mixedStytchRows(), false)

	resp, page := b.get("/runs/stytch-done")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /runs/stytch-done = %d, want 200:\n%s", resp.StatusCode, page)
	}
	re := regexp.MustCompile(`<tr data-line="(\d+)"`)
	var lines []string
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		lines = append(lines, m[1])
	}
	// Lines 3, 5, 6, 7 are the permanent failures; 2, 4 and 8 were reactivated.
	if got, want := strings.Join(lines, ","), "3,5,6,7"; got != want {
		t.Errorf("run page failure lines = %s, want %s", got, want)
	}
	for _, want := range []string{
		"member-test-00000000-0000-4000-8000-000000000002", // ids of line 3
		"member_not_found: &lt;script&gt;alert(1)&lt;/script&gt;",
		"organization_not_found", "member_id is empty", "not_deactivated",
		`href="/runs/stytch-done/report.csv"`, `href="/runs/stytch-done/report.json"`, `href="/runs/stytch-done/report.md"`,
		`href="/runs/stytch-done/report.csv?failed_only=1"`,
		`href="/monitoring/queues/reactivator-stytch?status=archived"`,
		"4 failures",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Errorf("run page carries a provider message unescaped")
	}
	if strings.Contains(page, "member-test-00000000-0000-4000-8000-000000000001") {
		t.Errorf("run page lists reactivated line 2 among the failures")
	}
}

func TestRunPageListsTheFirstFailuresOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rows := make([]row, maxFailures+5)
	for i := range rows {
		rows[i] = zitadelRow(i, outcome(jobs.NotFound, 404, "user not found"))
	}
	b.buildRun("many", jobs.Zitadel, rows, false)
	_, page := b.get("/runs/many")
	if got := strings.Count(page, "<tr data-line="); got != maxFailures {
		t.Errorf("run page lists %d failures, want %d", got, maxFailures)
	}
	if want := fmt.Sprintf("first %d of %d failures", maxFailures, maxFailures+5); !strings.Contains(page, want) {
		t.Errorf("run page lacks %q", want)
	}
}

func TestRunPageNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	resp, page := b.get("/runs/nope")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, `no run &#34;nope&#34;`) {
		t.Errorf("GET /runs/nope = %d, want 404 naming the run:\n%s", resp.StatusCode, page)
	}
}

// A run a prune stopped in the middle of is listed as pruning; its page and its reports say
// it is being pruned instead of showing what is left of it.
func TestRunBeingPrunedIsShownSo(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("half", jobs.Zitadel, []row{zitadelRow(1, outcome(jobs.NotFound, 404, "gone"))}, false)
	// What a prune's first batch writes into the run's hash.
	if err := b.store.Redis().HSet(b.ctx, "reactivator:{half}:run", "pruning", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if _, page := b.get("/"); !strings.Contains(page, `data-run="half" data-status="pruning"`) {
		t.Errorf("runs page does not list run half as pruning:\n%s", page)
	}
	for _, path := range []string{"/runs/half", "/runs/half/report.csv"} {
		if resp, body := b.get(path); resp.StatusCode != http.StatusGone || !strings.Contains(body, "being pruned") {
			t.Errorf("GET %s = %d, want 410 saying the run is being pruned:\n%s", path, resp.StatusCode, body)
		}
	}
}

func TestRunIDsAreEscapedInLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	id := "team/a?b#c"
	b.buildRun(id, jobs.Zitadel, []row{zitadelRow(1, outcome(jobs.NotFound, 404, "gone"))}, false)
	_, page := b.get("/")
	esc := "/runs/" + url.PathEscape(id)
	if !strings.Contains(page, `href="`+esc+`"`) {
		t.Fatalf("runs page lacks the escaped link %s:\n%s", esc, page)
	}
	resp, body := b.get(esc)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "gone") {
		t.Errorf("GET %s = %d, want 200 with the run's failure:\n%s", esc, resp.StatusCode, body)
	}
	resp, body = b.get(esc + "/report.csv")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "not_found") {
		t.Errorf("GET %s/report.csv = %d, want 200 with the report:\n%s", esc, resp.StatusCode, body)
	}
}

func TestReportDownloads(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("stytch-done", jobs.Stytch, mixedStytchRows(), false)
	tests := []struct {
		name, path string
		opts       jobs.ReportOptions
		ctype      string
		filename   string
	}{
		{name: "csv", path: "/runs/stytch-done/report.csv", opts: jobs.ReportOptions{Format: jobs.ReportCSV},
			ctype: "text/csv; charset=utf-8", filename: "stytch-done.report.csv"},
		{name: "csv failed only", path: "/runs/stytch-done/report.csv?failed_only=1", opts: jobs.ReportOptions{Format: jobs.ReportCSV, FailedOnly: true},
			ctype: "text/csv; charset=utf-8", filename: "stytch-done.failed.report.csv"},
		{name: "json", path: "/runs/stytch-done/report.json", opts: jobs.ReportOptions{Format: jobs.ReportJSON},
			ctype: "application/json", filename: "stytch-done.report.json"},
		{name: "json failed only", path: "/runs/stytch-done/report.json?failed_only=true", opts: jobs.ReportOptions{Format: jobs.ReportJSON, FailedOnly: true},
			ctype: "application/json", filename: "stytch-done.failed.report.json"},
		{name: "markdown", path: "/runs/stytch-done/report.md", opts: jobs.ReportOptions{Format: jobs.ReportMarkdown},
			ctype: "text/markdown; charset=utf-8", filename: "stytch-done.report.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var want bytes.Buffer
			if _, err := report.Write(b.ctx, &want, b.store, "stytch-done", tt.opts); err != nil {
				t.Fatalf("WriteReport(%+v) = %v", tt.opts, err)
			}
			resp, body := b.get(tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200:\n%s", tt.path, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("GET %s Content-Type = %q, want %q", tt.path, got, tt.ctype)
			}
			if got, wantCD := resp.Header.Get("Content-Disposition"), `attachment; filename=`+tt.filename; got != wantCD {
				t.Errorf("GET %s Content-Disposition = %q, want %q", tt.path, got, wantCD)
			}
			if body != want.String() {
				t.Errorf("GET %s body =\n%s\nwant WriteReport's\n%s", tt.path, body, want.String())
			}
		})
	}
	t.Run("json parses", func(t *testing.T) {
		t.Parallel()
		_, body := b.get("/runs/stytch-done/report.json")
		var doc struct {
			Rows []json.RawMessage `json:"rows"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil || len(doc.Rows) != 7 {
			t.Errorf("report.json = %d rows, %v; want 7 rows, nil", len(doc.Rows), err)
		}
	})
}

func TestReportDownloadErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("r", jobs.Stytch, mixedStytchRows(), false)
	tests := []struct {
		name, path string
		want       int
	}{
		{name: "unknown run", path: "/runs/nope/report.csv", want: http.StatusNotFound},
		{name: "unknown format", path: "/runs/r/report.xlsx", want: http.StatusNotFound},
		{name: "bad failed_only", path: "/runs/r/report.csv?failed_only=maybe", want: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if resp, body := b.get(tt.path); resp.StatusCode != tt.want {
				t.Errorf("GET %s = %d, want %d:\n%s", tt.path, resp.StatusCode, tt.want, body)
			}
		})
	}
}

func TestPausedProviderAndResume(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("held", jobs.Stytch, []row{stytchRow(1, nil)}, false)
	reason := "stytch answered 401 unauthorized_credentials: check STYTCH_SECRET"
	if err := b.store.SetPaused(b.ctx, jobs.Pause{Provider: jobs.Stytch, Reason: reason, RunID: "held", Line: 2}); err != nil {
		t.Fatal(err)
	}
	_, page := b.get("/")
	for _, want := range []string{
		`<section class="paused" data-provider="stytch">`, reason,
		`<form method="post" action="/providers/stytch/resume">`, `href="/runs/held"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("runs page with stytch paused lacks %q", want)
		}
	}
	if _, runPage := b.get("/runs/held"); !strings.Contains(runPage, reason) {
		t.Errorf("run page of a paused provider's run lacks the reason %q", reason)
	}
	if strings.Contains(page, "Grant the service user") || !strings.Contains(page, "Fix the cause (credentials, permissions, base URL)") {
		t.Errorf("runs page with stytch paused for its credentials does not say to fix the cause:\n%s", page)
	}
	// A pause for want of a role says which to grant.
	const grant = "ORG_USER_MANAGER (in the organisations of the rows) or IAM_USER_MANAGER"
	if err := b.store.SetPaused(b.ctx, jobs.Pause{Provider: jobs.Zitadel, Reason: "the ZITADEL service user has no role at all", Grant: grant}); err != nil {
		t.Fatal(err)
	}
	if _, page := b.get("/"); !strings.Contains(page, "Grant the service user "+grant+", then resume") {
		t.Errorf("runs page with zitadel paused for want of a role does not name the role to grant:\n%s", page)
	}
	if err := b.store.ClearPaused(b.ctx, jobs.Zitadel); err != nil {
		t.Fatal(err)
	}

	resp, body := b.do(http.MethodPost, "/providers/stytch/resume", b.sameOrigin())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?resumed=stytch" {
		t.Fatalf("POST resume = %d to %q, want 303 to /?resumed=stytch:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if got := b.resumed(); len(got) != 1 || got[0] != jobs.Stytch {
		t.Errorf("Resume calls = %v, want [stytch]", got)
	}
	paused, err := b.store.Paused(b.ctx)
	if err != nil || len(paused) != 0 {
		t.Errorf("Paused() after resume = %v, %v; want none", paused, err)
	}
	_, page = b.get("/?resumed=stytch")
	if strings.Contains(page, `class="paused"`) || !strings.Contains(page, "Resumed <b>stytch</b>") {
		t.Errorf("runs page after resume still shows the pause or lacks the notice:\n%s", page)
	}
}

func TestResumeErrors(t *testing.T) {
	t.Parallel()
	t.Run("unknown provider", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		if resp, _ := b.do(http.MethodPost, "/providers/okta/resume", b.sameOrigin()); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST /providers/okta/resume = %d, want 404", resp.StatusCode)
		}
		if got := b.resumed(); len(got) != 0 {
			t.Errorf("Resume calls = %v, want none", got)
		}
	})
	t.Run("resume fails", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) {
			c.Resume = func(context.Context, jobs.Provider) error { return fmt.Errorf("redis went away") }
		})
		resp, body := b.do(http.MethodPost, "/providers/zitadel/resume", b.sameOrigin())
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "reactivator resume zitadel") {
			t.Errorf("POST resume with a failing Resume = %d, want 500 pointing at the command:\n%s", resp.StatusCode, body)
		}
		if !strings.Contains(b.logs.String(), "redis went away") {
			t.Errorf("logs lack the cause of the failed resume:\n%s", b.logs.String())
		}
	})
	t.Run("check refuses", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) {
			c.CheckResume = func(_ context.Context, p jobs.Provider) error {
				return fmt.Errorf("zitadel answered 401 <invalid token>: %s stays paused; fix the cause first", p)
			}
		})
		if err := b.store.SetPaused(b.ctx, jobs.Pause{Provider: jobs.Zitadel, Reason: "401"}); err != nil {
			t.Fatal(err)
		}
		resp, body := b.do(http.MethodPost, "/providers/zitadel/resume", b.sameOrigin())
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "zitadel stays paused") || !strings.Contains(body, "&lt;invalid token&gt;") {
			t.Errorf("POST resume refused by its check = %d, want 409 with the check's words, escaped:\n%s", resp.StatusCode, body)
		}
		if got := b.resumed(); len(got) != 0 {
			t.Errorf("Resume calls after a refused check = %v, want none", got)
		}
		if paused, err := b.store.Paused(b.ctx); err != nil || len(paused) != 1 {
			t.Errorf("Paused() after a refused check = %v, %v; want zitadel", paused, err)
		}
	})
	t.Run("no resume configured", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.Resume = nil })
		if err := b.store.SetPaused(b.ctx, jobs.Pause{Provider: jobs.Zitadel, Reason: "401"}); err != nil {
			t.Fatal(err)
		}
		if _, page := b.get("/"); strings.Contains(page, "<form") || !strings.Contains(page, "reactivator resume zitadel") {
			t.Errorf("runs page without Resume shows a button or lacks the command:\n%s", page)
		}
		if resp, _ := b.do(http.MethodPost, "/providers/zitadel/resume", b.sameOrigin()); resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("POST resume without Resume = %d, want 501", resp.StatusCode)
		}
	})
	t.Run("GET is not a resume", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		if resp, _ := b.get("/providers/stytch/resume"); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /providers/stytch/resume = %d, want 405", resp.StatusCode)
		}
		if got := b.resumed(); len(got) != 0 {
			t.Errorf("Resume calls = %v, want none", got)
		}
	})
}

func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{name: "other origin", header: http.Header{"Origin": {"https://evil.example"}}, want: http.StatusForbidden},
		{name: "cross-site fetch", header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, want: http.StatusForbidden},
		{name: "other origin, lying same-site", header: http.Header{"Origin": {"http://127.0.0.1:1"}, "Sec-Fetch-Site": {"same-site"}}, want: http.StatusForbidden},
		{name: "null origin", header: http.Header{"Origin": {"null"}}, want: http.StatusForbidden},
		{name: "other referer, no origin", header: http.Header{"Referer": {"https://evil.example/page"}}, want: http.StatusForbidden},
		{name: "unparsable referer", header: http.Header{"Referer": {"http://[::1"}}, want: http.StatusForbidden},
		{name: "own referer, no origin", header: http.Header{"Referer": {"SELF/"}}, want: http.StatusSeeOther},
		{name: "no browser headers (curl)", header: http.Header{}, want: http.StatusSeeOther},
		{name: "same origin", header: nil, want: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			h := tt.header
			if h == nil {
				h = b.sameOrigin()
			}
			if ref := h.Get("Referer"); strings.HasPrefix(ref, "SELF") {
				h = http.Header{"Referer": {b.srv.URL + strings.TrimPrefix(ref, "SELF")}}
			}
			resp, body := b.do(http.MethodPost, "/providers/stytch/resume", h)
			if resp.StatusCode != tt.want {
				t.Errorf("POST resume with %v = %d, want %d:\n%s", h, resp.StatusCode, tt.want, body)
			}
			if calls := len(b.resumed()); (calls == 1) != (tt.want == http.StatusSeeOther) {
				t.Errorf("POST resume with %v called Resume %d times, want %d", h, calls, map[bool]int{true: 1}[tt.want == http.StatusSeeOther])
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	const user, password = "ops", "correct horse battery staple"
	b := setup(t, func(c *Config) { c.BasicAuthUser, c.BasicAuthPassword = user, password })
	auth := func(u, p string) http.Header {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(u, p)
		return req.Header
	}
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		want   int
	}{
		{name: "no credentials", method: "GET", path: "/", want: http.StatusUnauthorized},
		{name: "wrong password", method: "GET", path: "/", header: auth(user, "guess"), want: http.StatusUnauthorized},
		{name: "wrong user", method: "GET", path: "/", header: auth("root", password), want: http.StatusUnauthorized},
		{name: "password prefix", method: "GET", path: "/", header: auth(user, password[:5]), want: http.StatusUnauthorized},
		{name: "right", method: "GET", path: "/", header: auth(user, password), want: http.StatusOK},
		{name: "metrics need it", method: "GET", path: "/metrics", want: http.StatusUnauthorized},
		{name: "monitor needs it", method: "GET", path: "/monitoring/", want: http.StatusUnauthorized},
		{name: "monitor api needs it", method: "GET", path: "/monitoring/api/queues", want: http.StatusUnauthorized},
		{name: "reports need it", method: "GET", path: "/runs/x/report.csv", want: http.StatusUnauthorized},
		{name: "static needs it", method: "GET", path: "/static/style.css", want: http.StatusUnauthorized},
		{name: "resume needs it", method: "POST", path: "/providers/stytch/resume", header: b.sameOrigin(), want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, _ := b.do(tt.method, tt.path, tt.header)
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("%s %s WWW-Authenticate = %q, want a Basic challenge", tt.method, tt.path, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Cleanup(func() {
		if logs := b.logs.String(); strings.Contains(logs, password) || strings.Contains(logs, "guess") {
			t.Errorf("logs carry a password:\n%s", logs)
		}
		if len(b.resumed()) != 0 {
			t.Errorf("an unauthenticated POST called Resume")
		}
	})
}

func TestNoAuthWhenNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET / without auth configured = %d, want 200", resp.StatusCode)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	store := jobs.NewStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}))
	opt := asynq.RedisClientOpt{Addr: "127.0.0.1:1"}
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{name: "minimal", cfg: Config{Store: store, Redis: opt}},
		{name: "with auth", cfg: Config{Store: store, Redis: opt, BasicAuthUser: "u", BasicAuthPassword: "p"}},
		{name: "no store", cfg: Config{Redis: opt}, want: "Config.Store"},
		{name: "no redis", cfg: Config{Store: store}, want: "Config.Redis"},
		{name: "user without password", cfg: Config{Store: store, Redis: opt, BasicAuthUser: "u"}, want: "BasicAuthPassword"},
		{name: "password without user", cfg: Config{Store: store, Redis: opt, BasicAuthPassword: "p"}, want: "BasicAuthUser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tt.want)
			}
			if tt.want != "" {
				if _, err := New(tt.cfg); err == nil {
					t.Errorf("New() = nil error, want %q", tt.want)
				}
			}
		})
	}
}

// enqueue puts one task in queue q, so the monitor and asynq's metrics have something to show.
func (b *bundle) enqueue(q string) *asynq.TaskInfo {
	b.t.Helper()
	c := asynq.NewClient(b.redis)
	defer c.Close()
	info, err := c.Enqueue(asynq.NewTask("dash:test", []byte(`{}`)), asynq.Queue(q), asynq.ProcessIn(time.Hour))
	if err != nil {
		b.t.Fatalf("Enqueue(%s) = %v", q, err)
	}
	return info
}

func (b *bundle) queuePaused(q string) bool {
	b.t.Helper()
	insp := asynq.NewInspector(b.redis)
	defer insp.Close()
	qi, err := insp.GetQueueInfo(q)
	if err != nil {
		b.t.Fatalf("GetQueueInfo(%s) = %v", q, err)
	}
	return qi.Paused
}

func (b *bundle) taskExists(q, id string) bool {
	b.t.Helper()
	insp := asynq.NewInspector(b.redis)
	defer insp.Close()
	_, err := insp.GetTaskInfo(q, id)
	return err == nil
}

func TestMonitorIsMountedAndReadOnlyByDefault(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const q = "dash-monitor"
	task := b.enqueue(q)

	resp, page := b.get("/monitoring/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Asynq - Monitoring") ||
		!strings.Contains(page, `window.FLAG_READ_ONLY="true"`) || !strings.Contains(page, `/monitoring/static/js/`) {
		t.Errorf("GET /monitoring/ = %d, want asynqmon's page in read-only mode under /monitoring:\n%.600s", resp.StatusCode, page)
	}
	if resp, _ := b.get("/monitoring"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/monitoring/" {
		t.Errorf("GET /monitoring = %d to %q, want 301 to /monitoring/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/monitoring/api/queues")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"queue":"`+q+`"`) {
		t.Errorf("GET /monitoring/api/queues = %d, want 200 listing %s:\n%s", resp.StatusCode, q, body)
	}

	writes := []struct{ method, path string }{
		{http.MethodPost, "/monitoring/api/queues/" + q + ":pause"},
		{http.MethodDelete, "/monitoring/api/queues/" + q + "/scheduled_tasks/" + task.ID},
		{http.MethodPost, "/monitoring/api/queues/" + q + "/scheduled_tasks/" + task.ID + ":run"},
		{http.MethodDelete, "/monitoring/api/queues/" + q},
		{http.MethodPut, "/monitoring/api/queues/" + q},
	}
	for _, w := range writes {
		resp, body := b.do(w.method, w.path, b.sameOrigin())
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, "--monitor-write") {
			t.Errorf("%s %s = %d, want 405 naming --monitor-write:\n%s", w.method, w.path, resp.StatusCode, body)
		}
	}
	if b.queuePaused(q) {
		t.Errorf("queue %s is paused after refused writes", q)
	}
	if !b.taskExists(q, task.ID) {
		t.Errorf("task %s is gone after refused writes", task.ID)
	}
}

func TestMonitorWrite(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MonitorWrite = true })
	const q = "dash-monitor-write"
	task := b.enqueue(q)

	if _, page := b.get("/monitoring/"); !strings.Contains(page, `window.FLAG_READ_ONLY="false"`) {
		t.Errorf("GET /monitoring/ with MonitorWrite is still read-only")
	}
	if resp, body := b.do(http.MethodPost, "/monitoring/api/queues/"+q+":pause", http.Header{"Origin": {"https://evil.example"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST pause = %d, want 403:\n%s", resp.StatusCode, body)
	}
	if b.queuePaused(q) {
		t.Fatalf("queue %s paused by a cross-origin request", q)
	}
	if resp, body := b.do(http.MethodPost, "/monitoring/api/queues/"+q+":pause", b.sameOrigin()); resp.StatusCode >= 300 {
		t.Errorf("POST pause with MonitorWrite = %d, want success:\n%s", resp.StatusCode, body)
	}
	if !b.queuePaused(q) {
		t.Errorf("queue %s not paused after POST pause with MonitorWrite", q)
	}
	if resp, body := b.do(http.MethodDelete, "/monitoring/api/queues/"+q+"/scheduled_tasks/"+task.ID, b.sameOrigin()); resp.StatusCode >= 300 {
		t.Errorf("DELETE task with MonitorWrite = %d, want success:\n%s", resp.StatusCode, body)
	}
	if b.taskExists(q, task.ID) {
		t.Errorf("task %s still exists after DELETE with MonitorWrite", task.ID)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg) // the demo's case: workers in the same process
	m.Calls.WithLabelValues("stytch", "reactivated").Inc()
	m.CallDuration.WithLabelValues("stytch").Observe(0.2)
	m.LimiterWait.WithLabelValues("stytch").Observe(0.01)
	m.RateLimited.WithLabelValues("stytch").Inc()
	b := setup(t, func(c *Config) { c.Registry = reg })
	b.enqueue(jobs.Stytch.Queue())
	b.buildRun("stytch-done", jobs.Stytch, mixedStytchRows(), false)
	b.buildRun("zitadel-busy", jobs.Zitadel, []row{zitadelRow(1, outcome(jobs.Reactivated, 200, "")), zitadelRow(2, nil)}, false)
	b.buildRun("zitadel-ingesting", jobs.Zitadel, []row{zitadelRow(1, nil)}, true)
	if err := b.store.SetPaused(b.ctx, jobs.Pause{Provider: jobs.Zitadel, Reason: "401"}); err != nil {
		t.Fatal(err)
	}

	resp, body := b.get("/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200:\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		// asynq's queue metrics
		`asynq_queue_size{queue="reactivator-stytch"} 1`,
		`asynq_tasks_enqueued_total{queue="reactivator-stytch",state="scheduled"} 1`,
		`asynq_queue_paused_total{queue="reactivator-stytch"} 0`,
		// ours, from the store at scrape time
		`reactivator_runs_in_flight{provider="stytch"} 0`,
		`reactivator_runs_in_flight{provider="zitadel"} 2`,
		`reactivator_runs{provider="zitadel",state="ingesting"} 1`,
		`reactivator_runs{provider="stytch",state="finished"} 1`,
		`reactivator_run_rows{outcome="not_found",provider="stytch"} 2`,
		`reactivator_run_rows{outcome="reactivated",provider="stytch"} 3`,
		`reactivator_run_rows{outcome="pending",provider="zitadel"} 1`,
		`reactivator_provider_paused{provider="zitadel"} 1`,
		`reactivator_provider_paused{provider="stytch"} 0`,
		// the workers', registered by the caller
		`reactivator_calls_total{class="reactivated",provider="stytch"} 1`,
		"reactivator_call_duration_seconds_bucket", "reactivator_limiter_wait_seconds_bucket",
		`reactivator_rate_limited_total{provider="stytch"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestStaticAssetsAndHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("r", jobs.Stytch, mixedStytchRows(), false)
	resp, css := b.get("/static/style.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "svg.bar") {
		t.Errorf("GET /static/style.css = %d %q, want 200 text/css with the bar's style", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, path := range []string{"/", "/runs/r"} {
		resp, page := b.get(path)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s Content-Security-Policy = %q, want default-src 'self'", path, csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s X-Frame-Options = %q, want DENY", path, resp.Header.Get("X-Frame-Options"))
		}
		// No CDN: every asset the page loads is our own.
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			if strings.Contains(m[1], "//") {
				t.Errorf("GET %s loads or links %q, want only paths of our own", path, m[1])
			}
		}
		if strings.Contains(page, "style=") || strings.Count(page, "<script") != strings.Count(page, `<script src="/static/dash.js" defer></script>`) {
			t.Errorf("GET %s has inline style or script, which the page's CSP blocks", path)
		}
	}
}

func TestPollInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		refresh time.Duration
		want    string // "" = no polling
	}{
		{name: "default", refresh: 0, want: `data-poll="5000"`},
		{name: "two seconds", refresh: 2 * time.Second, want: `data-poll="2000"`},
		{name: "under 100ms rounds up", refresh: 10 * time.Millisecond, want: `data-poll="100"`},
		{name: "never", refresh: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.Refresh = tt.refresh })
			b.buildRun("busy", jobs.Zitadel, []row{zitadelRow(1, nil)}, false)
			for _, path := range []string{"/", "/runs/busy"} {
				_, page := b.get(path)
				if strings.Contains(page, `http-equiv="refresh"`) {
					t.Errorf("GET %s with Refresh %v reloads itself (meta refresh), want polling in place", path, tt.refresh)
				}
				if tt.want == "" && strings.Contains(page, "data-poll=") || !strings.Contains(page, tt.want) {
					t.Errorf("GET %s with Refresh %v: want %q, page head:\n%.700s", path, tt.refresh, tt.want, page)
				}
			}
		})
	}
}
