package dash

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"reactivator/jobs"
)

// artifactDir is where the browser test leaves its screenshots, inside the package (not
// t.TempDir) so that CI can keep them. It is gitignored.
const artifactDir = "testdata/artifacts"

// findChromium returns Debian's chromium, failing the test (never skipping: a skipped browser
// test proves nothing) when it is not installed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not on PATH: run `make deps` (it does `apt-get install -y chromium`) and test again")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a context for its tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(findChromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		// Nothing but the test server resolves: a page of ours that reached for a CDN would show
		// it broken in the screenshot, and asynqmon's web fonts fail at once instead of hanging.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	// The first Do starts the browser, which lives as long as ctx: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", findChromium(t), err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	return tctx
}

// screenshot saves the whole page as a PNG under artifactDir.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(artifactDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}

// countsJS reads the outcome badges of one run's row: outcome -> count.
const countsJS = `Object.fromEntries([...document.querySelectorAll('tr[data-run="%s"] [data-outcome]')]
	.map(e => [e.dataset.outcome, Number(e.querySelector('b').textContent)]))`

func TestBrowserRunsPage(t *testing.T) {
	t.Parallel()
	findChromium(t) // fail first, and with the fix, when chromium is missing
	// No meta refresh: a reload between two steps would make them race the navigation.
	b := setup(t, func(c *Config) { c.Refresh = -1 })
	b.buildRun("stytch-members-3f9a2c", jobs.Stytch, mixedStytchRows(), false)
	b.buildRun("zitadel-users-81be07", jobs.Zitadel, []row{
		zitadelRow(1, outcome(jobs.Reactivated, 200, "")),
		zitadelRow(2, outcome(jobs.Reactivated, 200, "")),
		zitadelRow(3, outcome(jobs.Duplicate, 0, "duplicate of line 2")),
		zitadelRow(4, outcome(jobs.Failed, 503, "upstream unavailable after 8 attempts")),
		zitadelRow(5, nil), zitadelRow(6, nil), zitadelRow(7, nil),
	}, false)
	if err := b.store.SetPaused(b.ctx, jobs.Pause{Provider: jobs.Zitadel, RunID: "zitadel-users-81be07", Line: 6,
		Reason: "ZITADEL answered 401 Unauthenticated: the token was refused; check ZITADEL_TOKEN"}); err != nil {
		t.Fatal(err)
	}
	b.enqueue(jobs.Stytch.Queue())
	ctx := browser(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-run="stytch-members-3f9a2c"]`)),
	); err != nil {
		t.Fatalf("open the runs page: %v", err)
	}
	tests := []struct {
		run  string
		want map[string]int
		done string
	}{
		{run: "stytch-members-3f9a2c", done: "7 / 7",
			want: map[string]int{"reactivated": 3, "not_found": 2, "not_deactivated": 1, "invalid": 1}},
		{run: "zitadel-users-81be07", done: "4 / 7",
			want: map[string]int{"reactivated": 2, "duplicate": 1, "failed": 1}},
	}
	for _, tt := range tests {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int](strings.Replace(countsJS, "%s", tt.run, 1)))
		if err != nil {
			t.Fatalf("read the counts of %s: %v", tt.run, err)
		}
		if !equalCounts(got, tt.want) {
			t.Errorf("runs page in the browser: counts of %s = %v, want %v", tt.run, got, tt.want)
		}
		label, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-run="`+tt.run+`"] .bar-label`)))
		if err != nil {
			t.Fatalf("read the progress of %s: %v", tt.run, err)
		}
		if !strings.Contains(label, tt.done) {
			t.Errorf("runs page in the browser: progress of %s = %q, want it to say %q", tt.run, label, tt.done)
		}
	}
	// The stylesheet loaded: the bar has its height and the header its dark background.
	styled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.querySelector('svg.bar').getBoundingClientRect().height === 10 &&
		 getComputedStyle(document.querySelector('header.top')).backgroundColor === 'rgb(29, 36, 51)'`))
	if err != nil || !styled {
		t.Errorf("runs page in the browser is unstyled (style.css not applied): %v, %v", styled, err)
	}
	screenshot(t, ctx, "runs.png")

	// Into the run page: its failure table.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-run="stytch-members-3f9a2c"] a.run-link`)),
		chromedp.WaitVisible(chromedp.CSS(`table.failures`)),
	); err != nil {
		t.Fatalf("follow the run link: %v", err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.failures tbody tr').length`))
	if err != nil || n != 4 {
		t.Errorf("run page in the browser lists %d failures (%v), want 4", n, err)
	}
	screenshot(t, ctx, "run.png")

	// Into the monitor: asynqmon renders and shows our queue.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#monitor-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#root div`)),
	); err != nil {
		t.Fatalf("follow the monitor link: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, b.srv.URL+"/monitoring/") {
		t.Errorf("monitor link led to %q (%v), want %s/monitoring/", loc, err, b.srv.URL)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes("`+jobs.Stytch.Queue()+`")`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Errorf("monitor in the browser never showed queue %s: %v", jobs.Stytch.Queue(), err)
	}
	screenshot(t, ctx, "monitor.png")
}

// seedTimeline writes a run's per-minute counts as the store's scripts would have over the last
// minutes, so the chart in the screenshot shows a run's shape rather than one bar.
func (b *bundle) seedTimeline(runID string, minutes []map[string]int) {
	b.t.Helper()
	rdb := b.store.Redis()
	now := time.Now().Unix() / 60
	for i, m := range minutes {
		at := now - int64(len(minutes)-i)
		for field, n := range m {
			if err := rdb.HIncrBy(b.ctx, "reactivator:{"+runID+"}:minutes", fmt.Sprintf("%d:%s", at, field), int64(n)).Err(); err != nil {
				b.t.Fatal(err)
			}
		}
	}
}

// The run page updates itself in place while a run works (no reload: a marker left on the
// window survives), and its failure list filters by outcome and by an id typed in the search.
func TestBrowserRunPageLiveAndFilter(t *testing.T) {
	t.Parallel()
	findChromium(t)
	b := setup(t, func(c *Config) { c.Refresh = 300 * time.Millisecond })
	rows := mixedStytchRows()
	for i := 8; i <= 12; i++ {
		rows = append(rows, stytchRow(i, nil))
	}
	rows[1].out.Reason = "member_not_found"
	rows[5].out.Reason = "organization_not_found"
	b.buildRun("stytch-members-3f9a2c", jobs.Stytch, rows, false)
	b.seedTimeline("stytch-members-3f9a2c", []map[string]int{
		{"calls": 48, "reactivated": 41, "duplicate": 4, "not_found": 2},
		{"calls": 55, "reactivated": 44, "not_found": 1, "failed": 1},
		{"calls": 61, "reactivated": 50, "unverified_email": 2},
		{"calls": 30, "reactivated": 20, "not_found": 1},
		{"calls": 52, "reactivated": 45, "duplicate": 2},
	})
	ctx := browser(t)
	const failRows = `document.querySelectorAll('table.failures tbody tr').length`
	lines := `[...document.querySelectorAll('table.failures tbody tr')].map(e => e.dataset.line).join(',')`
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](lines))
			t.Fatalf("run page in the browser never showed %s (failure lines now %q): %v", what, got, err)
		}
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/runs/stytch-members-3f9a2c"),
		chromedp.WaitVisible(chromedp.CSS(`table.failures`)),
		chromedp.Evaluate[chromedp.Void](`window.noReload = true`),
	); err != nil {
		t.Fatalf("open the run page: %v", err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](lines)); err != nil || got != "3,5,6,7" {
		t.Fatalf("run page failure lines = %q (%v), want 3,5,6,7", got, err)
	}

	// Two rows finish while the page is open: one not found, one already active.
	for line, o := range map[int]jobs.OutcomeRecord{
		10: {Outcome: jobs.NotFound, Reason: "member_not_found", HTTPStatus: 404, Attempts: 1, Message: "Member not found"},
		11: {Outcome: jobs.NotDeactivated, Reason: jobs.ReasonAlreadyActive, HTTPStatus: 400, Attempts: 1},
	} {
		if _, err := b.store.Begin(b.ctx, jobs.Stytch, "stytch-members-3f9a2c", line); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.store.Record(b.ctx, "stytch-members-3f9a2c", line, o); err != nil {
			t.Fatal(err)
		}
	}
	poll("the row that just failed", `document.querySelector('table.failures tr[data-line="10"]') !== null`)
	poll("the new count of rows done", `document.querySelector('#live-progress [data-field="done"]').textContent === "9"`)
	poll("the already active row as ok", `document.querySelector('#live-outcomes tr[data-outcome="already_active"] .dot.ok') !== null`)
	if reloaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.noReload !== true`)); err != nil || reloaded {
		t.Errorf("run page reloaded to show the new rows (%v), want an update in place", err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](lines)); got != "3,5,6,7,10" {
		t.Errorf("run page failure lines after two rows finished = %q, want 3,5,6,7,10 (already active is no failure)", got)
	}
	screenshot(t, ctx, "run-live.png")

	// Filter by outcome: only the not_found rows.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#filter-outcome`), "not_found"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('filter-outcome').dispatchEvent(new Event('change', {bubbles: true}))`),
	); err != nil {
		t.Fatalf("choose outcome not_found: %v", err)
	}
	poll("only the not_found rows", lines+` === "3,7,10"`)
	// And by reason, through the select the page offers.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#filter-reason`), "organization_not_found"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('filter-reason').dispatchEvent(new Event('change', {bubbles: true}))`),
	); err != nil {
		t.Fatalf("choose reason organization_not_found: %v", err)
	}
	poll("only the organization_not_found row", lines+` === "7"`)
	// Search by a member id, any outcome and reason.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#filter-outcome`), ""),
		chromedp.SetValue(chromedp.CSS(`#filter-reason`), ""),
		chromedp.SendKeys(chromedp.CSS(`#filter-q`), "8000-000000000002"),
	); err != nil {
		t.Fatalf("type a member id: %v", err)
	}
	poll("the row of the member searched for", lines+` === "3"`)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "q=8000-000000000002") {
		t.Errorf("run page URL after a search = %q (%v), want the search in it (a link to the filtered list)", loc, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](failRows)); err != nil || n != 1 {
		t.Errorf("failure rows after the search = %d (%v), want 1", n, err)
	}
	if reloaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.noReload !== true`)); err != nil || reloaded {
		t.Errorf("run page reloaded to filter (%v), want the list to change in place", err)
	}
	// Clear: the whole list again, for the screenshot.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#filter-clear`))); err != nil {
		t.Fatalf("clear the filter: %v", err)
	}
	poll("every failure again", lines+` === "3,5,6,7,10"`)
	screenshot(t, ctx, "run.png")
}
