package dash

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"reactivator/jobs"
)

// The runs page lists a page of runs with a link to the older ones; every run is on exactly one
// page, and a run in progress shows on the first page however old it is.
func TestRunsPagePagesEveryRunOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.buildRun("zitadel-inprogress", jobs.Zitadel, []row{zitadelRow(1, nil)}, false)
	n := runsPageSize + 12
	for i := range n {
		time.Sleep(time.Millisecond) // distinct creation times, newest last
		b.buildRun(fmt.Sprintf("zitadel-done-%03d", i), jobs.Zitadel, []row{zitadelRow(1, outcome(jobs.Reactivated, 200, ""))}, false)
	}
	link := regexp.MustCompile(`<a href="(/\?after=[^"]+)">Older runs`)
	ids := regexp.MustCompile(`data-run="(zitadel-[a-z0-9-]+)"`)
	seen := map[string]int{}
	path := "/"
	for pages := 1; ; pages++ {
		resp, body := b.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		for _, m := range ids.FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		if pages == 1 && !strings.Contains(body, `data-run="zitadel-inprogress"`) {
			t.Errorf("the first page does not show the run in progress")
		}
		m := link.FindStringSubmatch(body)
		if m == nil {
			if pages != 2 {
				t.Errorf("%d pages for %d runs, want 2 of %d", pages, n+1, runsPageSize)
			}
			break
		}
		path = html.UnescapeString(m[1])
	}
	for i := range n {
		if id := fmt.Sprintf("zitadel-done-%03d", i); seen[id] != 1 {
			t.Errorf("run %s listed %d times, want once", id, seen[id])
		}
	}
	if resp, _ := b.get("/?after=garbage"); resp.StatusCode != 400 {
		t.Errorf("GET /?after=garbage = %d, want 400", resp.StatusCode)
	}
}
