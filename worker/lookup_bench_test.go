package worker

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// BenchmarkLookupTable prints what a lookup costs (make bench): the same deleted accounts
// ingested by id and by email, worked by one in-process worker (concurrency 100, no limit)
// against the fakes over HTTP; the reads each row made before its call, counted at the fake, and
// rows per second. REACTIVATOR_BENCH_LOOKUP_ROWS sets the rows per file (default 3000).
func BenchmarkLookupTable(b *testing.B) {
	if b.N > 1 {
		b.Skip("a table, not a loop: run with -benchtime 1x")
	}
	n := 3000
	if v, err := strconv.Atoi(os.Getenv("REACTIVATOR_BENCH_LOOKUP_ROWS")); err == nil && v > 0 {
		n = v
	}
	fmt.Println("\n### Rows by email against the fakes (0 ms latency): one worker, concurrency 100, no limit")
	fmt.Println()
	fmt.Println("| provider | rows named by | rows | reads before the call / row | reactivate calls / row | rows/s |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, byEmail := range []bool{false, true} {
		benchLookupStytch(b, n, byEmail)
	}
	for _, byEmail := range []bool{false, true} {
		benchLookupZitadel(b, n, byEmail)
	}
	fmt.Println()
}

// benchLookupRow prints one row of the table for a finished run.
func benchLookupRow(b *bundle, provider, runID string, n, reads, calls int, took time.Duration) {
	b.t.Helper()
	run := b.waitFinished(runID, time.Second)
	if run.Counts[jobs.Reactivated] != n {
		b.t.Fatalf("run %s counts = %v, want %d reactivated", runID, run.Counts, n)
	}
	by := "id"
	if strings.Contains(runID, "email") {
		by = "email"
	}
	fmt.Printf("| %s | %s | %d | %.3f | %.3f | %.0f |\n", provider, by, n, float64(reads)/float64(n), float64(calls)/float64(n), float64(n)/took.Seconds())
}

func benchLookupStytch(tb *testing.B, n int, byEmail bool) {
	b := setup(tb)
	var csv strings.Builder
	csv.WriteString("organization_id,member_id,email\n")
	for i := 1; i <= n; i++ {
		b.stytch.AddMember(orgID, member(i), "deleted", true)
		email := fmt.Sprintf("m%d@example.com", i)
		b.stytch.SetMemberEmail(member(i), email)
		id := member(i)
		if byEmail {
			id = ""
		}
		fmt.Fprintf(&csv, "%s,%s,%s\n", orgID, id, email)
	}
	runID := map[bool]string{false: "stytch-id", true: "stytch-email"}[byEmail]
	b.ingestCSV(runID, csv.String())
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	cfg.Concurrency = 100
	start := time.Now()
	b.start(cfg)
	b.waitFinished(runID, 10*time.Minute)
	took := time.Since(start)
	benchLookupRow(b, "stytch", runID, n, b.stytch.Requests(searchPath), b.stytch.TotalCalls(), took)
}

func benchLookupZitadel(tb *testing.B, n int, byEmail bool) {
	b := setup(tb)
	z := fakeidp.NewZitadel("127.0.0.1")
	url, stop := fakeidp.Serve(z)
	tb.Cleanup(stop)
	const org, pat = "400907376431008806", "pat-secret-token-value"
	z.AddToken(pat, org)
	var csv strings.Builder
	csv.WriteString("user_id,email\n")
	for i := 1; i <= n; i++ {
		id := strconv.Itoa(400000000000000000 + i)
		email := fmt.Sprintf("u%d@example.com", i)
		z.AddZitadelUser(fakeidp.ZitadelUser{ID: id, OrgID: org, State: fakeidp.ZitadelInactive, Email: email})
		if byEmail {
			id = ""
		}
		fmt.Fprintf(&csv, "%s,%s\n", id, email)
	}
	c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: url, Token: pat, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	runID := map[bool]string{false: "zitadel-id", true: "zitadel-email"}[byEmail]
	b.ingestCSV(runID, csv.String())
	cfg := b.config(map[jobs.Provider]Caller{jobs.Zitadel: c})
	cfg.Concurrency = 100
	start := time.Now()
	b.start(cfg)
	b.waitFinished(runID, 10*time.Minute)
	took := time.Since(start)
	benchLookupRow(b, "zitadel", runID, n, z.Requests("/v2/users"), z.TotalCalls(), took)
}
