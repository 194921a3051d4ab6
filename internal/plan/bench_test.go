package plan_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"reactivator/internal/fakeidp"
	"reactivator/internal/plan"
	"reactivator/jobs"
)

// BenchmarkPlanTable prints plan's table (make bench): a plan of 100,000 ZITADEL rows against the
// fake over HTTP, through plan.Files as the plan command calls it, with the run store on a
// private redis-server: the calls the fake received (batches of 1,000 ids, the permission
// look-up, one-by-one reads of the rows a batch did not list) and rows a second, paced as shipped
// (40 calls a second) and unpaced.
func BenchmarkPlanTable(b *testing.B) {
	if b.N > 1 {
		b.Skip("a table, not a loop: run with -benchtime 1x")
	}
	const rows = 100_000
	fmt.Println("\n### plan of 100,000 ZITADEL rows against the fake (v2, ListUsers by 1,000 ids)")
	fmt.Println()
	fmt.Println("| pacing | rows | not listed (read one by one) | requests at the fake | ListUsers calls | seconds | rows/s |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, tc := range []struct {
		name    string
		limiter *rate.Limiter
		missing int
	}{
		{"40 calls/s (shipped)", nil, 0},
		{"none", rate.NewLimiter(rate.Inf, 1), 0},
		{"40 calls/s (shipped)", nil, rows / 100},
	} {
		benchPlan(b, rows, tc.missing, tc.name, tc.limiter)
	}
	fmt.Println()
}

func benchPlan(b *testing.B, rows, missing int, pacing string, lim *rate.Limiter) {
	w := newWorld(b, "v2")
	var sb strings.Builder
	sb.WriteString("user_id\n")
	for i := 1; i <= rows; i++ {
		id := fmt.Sprintf("5%017d", i)
		if i > missing {
			w.zitadel.AddUser(id, orgA, fakeidp.ZitadelInactive)
		}
		sb.WriteString(id + "\n")
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := w.config(b)
	cfg.ZitadelLimiter = lim
	before := w.requests.Load()
	start := time.Now()
	sums, err := plan.Files(context.Background(), cfg, []string{file}, dir, false, io.Discard)
	elapsed := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if got := sums[0].Counts[string(jobs.Reactivated)]; got != rows-missing {
		b.Fatalf("plan of %d rows: %d would be reactivated, want %d", rows, got, rows-missing)
	}
	fmt.Printf("| %s | %d | %d | %d | %d | %.1f | %.0f |\n", pacing, rows, missing, w.requests.Load()-before,
		w.zitadel.Requests("/v2/users"), elapsed.Seconds(), float64(rows)/elapsed.Seconds())
}
