// This file measures find: the code path the find command ships (discover through the provider
// client it builds) against the fakes over real HTTP.

package discover_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"reactivator/internal/discover"
	"reactivator/internal/fakeidp"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

// benchFindRows is the number of inactive accounts find lists; REACTIVATOR_BENCH_FIND_ROWS
// changes it.
func benchFindRows() int {
	if n, err := strconv.Atoi(os.Getenv("REACTIVATOR_BENCH_FIND_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkFindTable prints find's table (make bench): 100k inactive ZITADEL users (plus 10k
// active ones it must leave out) and 100k deleted Stytch members, listed through discover with
// the clients the command builds; calls made and accounts written per second. Stytch's search
// pacing (100 a minute, what the command uses) is lifted here and its floor given beside.
func BenchmarkFindTable(b *testing.B) {
	if b.N > 1 {
		b.Skip("a table, not a loop: run with -benchtime 1x")
	}
	n := benchFindRows()
	ctx := context.Background()
	fmt.Println("\n### find against the fakes (one process, loopback HTTP, pages of 1000)")
	fmt.Println()
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("Load average at the start: %s.\n\n", strings.Join(strings.Fields(string(la))[:3], " "))
	}
	fmt.Println("| provider | accounts found | calls | seconds | accounts/s | note |")
	fmt.Println("|---|---:|---:|---:|---:|---|")

	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddToken(admin, orgA)
	t0 := time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)
	for i := range n + n/10 {
		st := fakeidp.ZitadelInactive
		if i%11 == 10 {
			st = fakeidp.ZitadelActive
		}
		z.AddZitadelUser(fakeidp.ZitadelUser{ID: strconv.Itoa(400000000000000000 + i), OrgID: orgA, State: st, Created: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	zbase, zstop := fakeidp.Serve(z)
	defer zstop()
	zc, err := zitadel.New(ctx, zitadel.Config{BaseURL: zbase, Token: admin})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	res, err := discover.Zitadel(ctx, zc, discover.ZitadelQuery{})
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Rows) != n {
		b.Fatalf("find zitadel found %d, want %d", len(res.Rows), n)
	}
	fmt.Printf("| zitadel | %d | %d | %.1f | %.0f | ListUsers by state, paged by offset |\n", len(res.Rows), res.Calls, took.Seconds(), float64(len(res.Rows))/took.Seconds())

	s := fakeidp.NewStytch("project-test-11111111-1111-4111-8111-111111111111", "secret-test-x")
	s.AddOrg(sOrgA, "acme")
	for i := range n + n/10 {
		st := fakeidp.StytchDeleted
		if i%11 == 10 {
			st = fakeidp.StytchActive
		}
		s.AddMember(sOrgA, fmt.Sprintf("member-test-00000000-0000-4000-8000-%012d", i), st, true)
	}
	sbase, sstop := fakeidp.Serve(s)
	defer sstop()
	sc, err := stytch.New(stytch.Config{ProjectID: "project-test-11111111-1111-4111-8111-111111111111", Secret: "secret-test-x", BaseURL: sbase})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	res, err = discover.Stytch(ctx, sc, discover.StytchQuery{Orgs: []string{"acme"}, Limiter: rate.NewLimiter(rate.Inf, 1)})
	took = time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Rows) != n {
		b.Fatalf("find stytch found %d, want %d", len(res.Rows), n)
	}
	searches := res.Calls - 1 // the organization look-up
	floor := time.Duration(searches-1) * time.Minute / 100
	fmt.Printf("| stytch | %d | %d | %.1f | %.0f | search pacing lifted; at the command's 100 searches a minute the %d searches take at least %s |\n",
		len(res.Rows), res.Calls, took.Seconds(), float64(len(res.Rows))/took.Seconds(), searches, floor.Round(time.Second))
	fmt.Println()
}
