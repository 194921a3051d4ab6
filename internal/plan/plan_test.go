package plan_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"reactivator/ingest"
	"reactivator/internal/fakeidp"
	"reactivator/internal/oneshot"
	"reactivator/internal/plan"
	"reactivator/internal/progress"
	"reactivator/internal/redistest"
	"reactivator/jobs"
	"reactivator/worker"
	"reactivator/worker/stytch"
	"reactivator/worker/zitadel"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	projectID = "project-test-11111111-2222-4333-8444-555555555555"
	secret    = "secret-test-abcdefghijklmnopqrstuvwxyz0123456789="
	token     = "pat-of-the-service-user-0123456789"
	orgA      = "200000000000000001" // the service user's own: ORG_USER_MANAGER
	orgB      = "200000000000000002" // ORG_OWNER_VIEWER: may read, not write
	orgC      = "200000000000000003" // no role: may not even read
	sOrg      = "organization-test-00000000-0000-4000-8000-000000000001"
	sOther    = "organization-test-00000000-0000-4000-8000-000000000002"
	sMissing  = "organization-test-00000000-0000-4000-8000-000000000999"
)

func member(i int) string { return fmt.Sprintf("member-test-00000000-0000-4000-8000-%012d", i) }

// world is the fakes a test plans and runs against, and how to reach them.
type world struct {
	zitadel  *fakeidp.Zitadel
	stytch   *fakeidp.Stytch
	zcfg     zitadel.Config
	scfg     stytch.Config
	rdb      redis.UniversalClient
	store    *jobs.Store
	rdbOpt   asynq.RedisClientOpt
	requests atomic.Int64 // every request to either fake
}

func newWorld(t testing.TB, api string) *world {
	t.Helper()
	srv := redistest.Shared(t)
	db := srv.NextDB()
	w := &world{rdbOpt: asynq.RedisClientOpt{Addr: srv.Addr, DB: db}}
	w.rdb = redis.NewClient(&redis.Options{Addr: srv.Addr, DB: db})
	t.Cleanup(func() { _ = w.rdb.Close() })
	w.store = jobs.NewStore(w.rdb)
	w.zitadel = fakeidp.NewZitadel("")
	w.zitadel.AddServiceUser(token, orgA,
		fakeidp.Membership{OrgID: orgA, Roles: []string{fakeidp.RoleOrgUserManager}},
		fakeidp.Membership{OrgID: orgB, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	w.zitadel.AddOrg(orgC)
	w.stytch = fakeidp.NewStytch(projectID, secret)
	w.stytch.AddOrg(sOrg, "acme")
	w.stytch.AddOrg(sOther, "other")
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { w.requests.Add(1); h.ServeHTTP(rw, r) })
	}
	zurl, zstop := fakeidp.Serve(count(w.zitadel))
	t.Cleanup(zstop)
	surl, sstop := fakeidp.Serve(count(w.stytch))
	t.Cleanup(sstop)
	w.zcfg = zitadel.Config{BaseURL: zurl, API: api, Token: token, Timeout: 30 * time.Second}
	w.scfg = stytch.Config{ProjectID: projectID, Secret: secret, BaseURL: surl, Timeout: 30 * time.Second}
	return w
}

// config is the plan config of the world, as the plan command builds it.
func (w *world) config(t testing.TB) plan.Config {
	t.Helper()
	zc, err := zitadel.New(context.Background(), w.zcfg)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := stytch.New(w.scfg)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Config{StytchEnv: "test", Store: w.store, Zitadel: zc, Stytch: sc, ZitadelAPI: w.zcfg.API,
		ZitadelLimiter: rate.NewLimiter(rate.Inf, 1), StytchLimiter: rate.NewLimiter(rate.Inf, 1)}
}

// run runs file with the real one-shot path of `run`: ingest, an in-process worker, wait, report.
func (w *world) run(t *testing.T, file string) {
	t.Helper()
	zc, err := zitadel.New(context.Background(), w.zcfg)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := stytch.New(w.scfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := worker.New(worker.Config{Redis: w.rdb, Callers: map[jobs.Provider]worker.Caller{jobs.Zitadel: zc, jobs.Stytch: sc},
		Concurrency: 10, MaxAttempts: 3, Backoff: worker.Backoff{Base: 20 * time.Millisecond, Cap: 100 * time.Millisecond},
		ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	targets, err := oneshot.Targets([]string{file}, t.TempDir()+"/")
	if err != nil {
		t.Fatal(err)
	}
	r := &oneshot.Runner{Store: w.store, Out: io.Discard, Err: io.Discard,
		NewBar: func(label string, total int) *progress.Bar { return progress.New(io.Discard, false, label, total) },
		Ingest: ingest.Config{Store: w.store, Enqueuer: asynq.NewClient(w.rdbOpt), StytchEnv: "test"}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.Run(ctx, srv, targets); err != nil && !errors.Is(err, jobs.ErrFatal) && !strings.Contains(err.Error(), "not") {
		t.Logf("run %s = %v", file, err)
	}
}

// writeFile writes a CSV into a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// zitadelWorld adds a user in every state the fake knows, in organisations the service user may
// write in, only read, or not even read, and returns the file naming them (one line each, plus
// an invalid and a duplicate line).
func zitadelWorld(w *world) string {
	z := w.zitadel
	add := func(id, org, state string) { z.AddUser(id, org, state) }
	add("300000000000000001", orgA, fakeidp.ZitadelInactive)
	add("300000000000000002", orgA, fakeidp.ZitadelActive)
	add("300000000000000003", orgA, fakeidp.ZitadelLocked)
	add("300000000000000004", orgA, fakeidp.ZitadelInitial)
	add("300000000000000005", orgA, fakeidp.ZitadelDeleted)
	add("300000000000000007", orgB, fakeidp.ZitadelInactive)
	add("300000000000000008", orgB, fakeidp.ZitadelActive)
	add("300000000000000009", orgC, fakeidp.ZitadelInactive)
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "300000000000000010", OrgID: orgA, State: fakeidp.ZitadelActive, Machine: true})
	return "user_id,org_id,note\n" +
		"300000000000000001,,inactive\n" +
		"300000000000000002,,active\n" +
		"300000000000000003,,locked\n" +
		"300000000000000004,,initial\n" +
		"300000000000000005,,removed\n" +
		"300000000000000006,,never existed\n" +
		"300000000000000007,,inactive in a read-only org\n" +
		"300000000000000008,,active in a read-only org\n" +
		"300000000000000009,,inactive in an unreadable org\n" +
		"300000000000000010,,machine\n" +
		"3.00000000000000E+17,,spreadsheet damage\n" +
		"300000000000000001,,repeat\n" +
		"300000000000000007," + orgB + ",inactive with its org_id\n" +
		"300000000000000002," + orgA + ",active with its org_id\n"
}

func stytchWorld(w *world) string {
	s := w.stytch
	s.AddMember(sOrg, member(1), fakeidp.StytchDeleted, true)
	s.AddMember(sOrg, member(2), fakeidp.StytchDeleted, false)
	s.AddMember(sOrg, member(3), fakeidp.StytchActive, true)
	s.AddMember(sOrg, member(4), fakeidp.StytchInvited, true)
	s.AddMember(sOrg, member(5), fakeidp.StytchPending, true)
	s.AddMember(sOther, member(6), fakeidp.StytchDeleted, true)
	s.AddMember(sOrg, member(8), fakeidp.StytchDeleted, true)
	return "organization_id,member_id,note\n" +
		sOrg + "," + member(1) + ",deleted\n" +
		sOrg + "," + member(2) + ",deleted without a verified email\n" +
		sOrg + "," + member(3) + ",active\n" +
		sOrg + "," + member(4) + ",invited\n" +
		sOrg + "," + member(5) + ",pending\n" +
		sOrg + "," + member(6) + ",in another organization\n" +
		sOrg + "," + member(7) + ",no such member\n" +
		sMissing + "," + member(1) + ",no such organization\n" +
		"acme," + member(8) + ",by slug\n" +
		sOrg + ",member-live-00000000-0000-4000-8000-000000000001,other environment\n" +
		sOrg + "," + member(1) + ",repeat\n"
}

// zitadelEmailWorld adds users named by email, login name and user name: one match in every
// state that matters, none, and two, and returns the file naming them by those columns.
func zitadelEmailWorld(w *world) string {
	z := w.zitadel
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "310000000000000001", OrgID: orgA, State: fakeidp.ZitadelInactive, UserName: "ada", Email: "ada@example.com", EmailVerified: true})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "310000000000000002", OrgID: orgA, State: fakeidp.ZitadelActive, UserName: "ken", Email: "ken@example.com", EmailVerified: true})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "310000000000000003", OrgID: orgA, State: fakeidp.ZitadelInactive, UserName: "twin1", Email: "twin@example.com", EmailVerified: true})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "310000000000000004", OrgID: orgA, State: fakeidp.ZitadelInactive, UserName: "twin2", Email: "twin@example.com", EmailVerified: true})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "310000000000000005", OrgID: orgA, State: fakeidp.ZitadelLocked, UserName: "lou", Email: "lou@example.com", EmailVerified: true})
	return "email,note\n" +
		"ada@example.com,inactive\n" +
		"ken@example.com,active\n" +
		"twin@example.com,two accounts\n" +
		"nobody@example.com,no account\n" +
		"lou@example.com,locked\n" +
		",empty email\n" +
		"ada@example.com,repeat\n"
}

// stytchEmailWorld adds members named by email: one match (deleted, with and without a verified
// email, active), none and two, and returns the file naming them.
func stytchEmailWorld(w *world) string {
	s := w.stytch
	s.AddMember(sOrg, member(1), fakeidp.StytchDeleted, true)
	s.SetMemberEmail(member(1), "ada@example.com")
	s.AddMember(sOrg, member(2), fakeidp.StytchDeleted, false)
	s.SetMemberEmail(member(2), "unverified@example.com")
	s.AddMember(sOrg, member(3), fakeidp.StytchActive, true)
	s.SetMemberEmail(member(3), "ken@example.com")
	return "organization_id,email,note\n" +
		sOrg + ",ada@example.com,deleted\n" +
		sOrg + ",unverified@example.com,deleted without a verified email\n" +
		sOrg + ",ken@example.com,active\n" +
		sOrg + ",nobody@example.com,no member\n" +
		sOrg + ",,empty email\n"
}

// TestPlanEqualsRun plans a file covering every case the fakes know, then runs it with the real
// worker path, and compares the outcome and reason of every line. A row plan says it cannot see
// (unknown) is left out of the comparison, and must be the one unreadable user.
func TestPlanEqualsRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, api string
		world     func(*world) string
		unknown   int
	}{
		{"zitadel_v2", "v2", zitadelWorld, 1},
		{"zitadel_v1", "v1", zitadelWorld, 0},
		{"stytch", "", stytchWorld, 0},
		{"zitadel_email", "v2", zitadelEmailWorld, 0},
		{"stytch_email", "", stytchEmailWorld, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tc.api)
			file := writeFile(t, "rows.csv", tc.world(w))
			res, err := plan.Plan(context.Background(), w.config(t), file)
			if err != nil {
				t.Fatalf("Plan(%s) = %v", tc.name, err)
			}
			if n := w.zitadel.TotalCalls() + w.stytch.TotalCalls(); n != 0 {
				t.Fatalf("Plan(%s) made %d reactivate or deactivate calls, want 0", tc.name, n)
			}
			w.run(t, file)
			got := map[int]jobs.OutcomeRecord{}
			if err := w.store.EachRow(context.Background(), res.RunID, func(r jobs.ReportRow) error {
				if r.Pending {
					t.Errorf("run of %s: line %d still pending", tc.name, r.Line)
				}
				got[r.Line] = r.Outcome
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			unknown := 0
			for _, p := range res.Rows {
				ran, ok := got[p.Line]
				if !ok {
					t.Errorf("line %d: planned, but the run has no such line", p.Line)
					continue
				}
				if p.Outcome == plan.Unknown {
					unknown++
					t.Logf("line %d: plan cannot see it; the run gave %s/%s", p.Line, ran.Outcome, ran.Reason)
					continue
				}
				if p.Outcome != string(ran.Outcome) || p.Reason != ran.Reason {
					t.Errorf("line %d (%s): plan = %s/%s, run = %s/%s (%s)", p.Line, p.Input[len(p.Input)-1], p.Outcome, p.Reason, ran.Outcome, ran.Reason, ran.Message)
				}
			}
			if unknown != tc.unknown || len(res.Rows) != len(got) {
				t.Errorf("Plan(%s): %d unknown rows of %d, want %d of %d", tc.name, unknown, len(res.Rows), tc.unknown, len(got))
			}
		})
	}
}

// TestPlanBatches reads 2,500 ZITADEL users in three ListUsers calls and 1,500 Stytch members in
// two searches, counted at the fakes, with no read of one account and no write.
func TestPlanBatches(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v2")
	var zb, sb strings.Builder
	zb.WriteString("user_id\n")
	for i := 1; i <= 2500; i++ {
		id := fmt.Sprintf("4%017d", i)
		w.zitadel.AddUser(id, orgA, fakeidp.ZitadelInactive)
		zb.WriteString(id + "\n")
	}
	sb.WriteString("organization_id,member_id\n")
	for i := 1; i <= 1500; i++ {
		w.stytch.AddMember(sOrg, member(i), fakeidp.StytchDeleted, true)
		sb.WriteString("acme," + member(i) + "\n")
	}
	cfg := w.config(t)
	for _, tc := range []struct {
		name, content string
		path          string
		want          int
		before        int
	}{
		{"zitadel", zb.String(), "/v2/users", 3, 0},
		{"stytch", sb.String(), "/v1/b2b/organizations/members/search", 2, 0},
	} {
		before := w.requests.Load()
		res, err := plan.Plan(context.Background(), cfg, writeFile(t, tc.name+".csv", tc.content))
		if err != nil {
			t.Fatalf("Plan(%s) = %v", tc.name, err)
		}
		if n := res.Counts()[string(jobs.Reactivated)]; n != len(res.Rows) {
			t.Errorf("Plan(%s): %d of %d rows would be reactivated, want all", tc.name, n, len(res.Rows))
		}
		reqs := int(w.requests.Load() - before)
		var batched int
		if tc.name == "zitadel" {
			batched = w.zitadel.Requests(tc.path)
		} else {
			batched = w.stytch.Requests(tc.path)
		}
		// Besides the batches: ZITADEL's permission look-ups (memberships, then each of the two
		// organisations with a role), Stytch's organization look-up.
		other := map[string]int{"zitadel": 3, "stytch": 1}[tc.name]
		if batched != tc.want || reqs != tc.want+other || res.Calls != batched+other-map[string]int{"zitadel": 3}[tc.name] {
			t.Errorf("Plan(%s): %d batch calls, %d requests in all (plan counted %d), want %d and %d", tc.name, batched, reqs, res.Calls, tc.want, tc.want+other)
		}
	}
	if n := w.zitadel.TotalCalls() + w.stytch.TotalCalls(); n != 0 {
		t.Errorf("Plan made %d reactivate or deactivate calls, want 0", n)
	}
}

// TestPlanNoPermission refuses, as check does, a ZITADEL service user that may write users
// nowhere, saying which role to grant, before reading any row.
func TestPlanNoPermission(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v2")
	w.zitadel.AddServiceUser("viewer-token-0123456789", orgA, fakeidp.Membership{OrgID: orgA, Roles: []string{fakeidp.RoleOrgOwnerViewer}})
	w.zitadel.AddUser("300000000000000001", orgA, fakeidp.ZitadelInactive)
	w.zcfg.Token = "viewer-token-0123456789"
	_, err := plan.Plan(context.Background(), w.config(t), writeFile(t, "rows.csv", "user_id\n300000000000000001\n"))
	if !errors.Is(err, jobs.ErrFatal) || !strings.Contains(err.Error(), "ORG_USER_MANAGER") {
		t.Fatalf("Plan(viewer) = %v, want a fatal error naming the role to grant", err)
	}
	if n := w.zitadel.Requests("/v2/users"); n != 0 {
		t.Errorf("Plan(viewer) read %d batches, want none", n)
	}
}

// TestPlanKeepsRecordedOutcomes plans a file its run has finished: every row keeps the outcome
// the run recorded, and no account is read.
func TestPlanKeepsRecordedOutcomes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v2")
	file := writeFile(t, "rows.csv", zitadelWorld(w))
	w.run(t, file)
	before := w.requests.Load()
	res, err := plan.Plan(context.Background(), w.config(t), file)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed {
		t.Errorf("Plan after run: Resumed = false, want true (run %s)", res.RunID)
	}
	for _, r := range res.Rows {
		if r.Outcome != string(jobs.Invalid) && r.Outcome != string(jobs.Duplicate) && r.Recorded == nil {
			t.Errorf("line %d: planned from a read (%s), want the run's recorded outcome", r.Line, r.Outcome)
		}
	}
	if reqs := w.requests.Load() - before; reqs != 0 {
		t.Errorf("Plan after run made %d requests, want none", reqs)
	}
}

// TestFilesKeepsAnExistingPlan writes the second plan of a file beside the first, numbered, and
// overwrites it only with force.
func TestFilesKeepsAnExistingPlan(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v2")
	w.zitadel.AddUser("300000000000000001", orgA, fakeidp.ZitadelInactive)
	file := writeFile(t, "rows.csv", "user_id\n300000000000000001\n")
	dir := t.TempDir()
	first := filepath.Join(dir, "rows.csv.plan.csv")
	if err := os.WriteFile(first, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var notes strings.Builder
	sums, err := plan.Files(context.Background(), w.config(t), []string{file}, dir, false, &notes)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(first); string(b) != "mine\n" {
		t.Errorf("Files overwrote %s: %q", first, b)
	}
	if want := filepath.Join(dir, "rows.csv.plan.1.csv"); len(sums) != 1 || sums[0].Plan != want || !strings.Contains(notes.String(), "kept it") {
		t.Errorf("Files = %+v, notes %q, want the plan in %s and a note", sums, notes.String(), want)
	}
	if _, err := plan.Files(context.Background(), w.config(t), []string{file}, dir, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(first); !strings.HasPrefix(string(b), strings.Join(plan.Columns, ",")) {
		t.Errorf("Files with force: %s = %q, want the plan", first, b)
	}
}
