package worker

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/ingest"
	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/jobs/report"
	"reactivator/worker/zitadel"
)

func TestLaterAttrsLogsAsWith(t *testing.T) {
	t.Parallel()
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	attrs := []slog.Attr{slog.String("provider", "stytch"), slog.String("run", "r1"), slog.Int("line", 7)}
	write := func(l *slog.Logger) {
		l.Debug("not written")
		l.Warn("taken back", "err", "boom")
		l.With("extra", 1).WithGroup("g").Info("grouped", "k", "v")
	}
	var got, want bytes.Buffer
	write(slog.New(&laterAttrs{h: slog.NewTextHandler(&got, noTime), attrs: attrs}))
	write(slog.New(slog.NewTextHandler(&want, noTime)).With(slog.String("provider", "stytch"), slog.String("run", "r1"), slog.Int("line", 7)))
	if got.String() != want.String() || want.Len() == 0 {
		t.Errorf("laterAttrs logs\n%s\nwant, as With logs\n%s", got.String(), want.String())
	}
	if (&laterAttrs{h: slog.NewTextHandler(&got, noTime)}).Enabled(context.Background(), slog.LevelDebug) {
		t.Errorf("laterAttrs.Enabled(debug) = true under an info handler, want false")
	}
}

// searchPath is Stytch's Search Members, the one read a Stytch email row costs.
const searchPath = "/v1/b2b/organizations/members/search"

// ingestCSV ingests a CSV as the commands do: rows wait in the run store for the window.
func (b *bundle) ingestCSV(runID, data string) ingest.Result {
	b.t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.Addr, DB: b.redis.DB})
	b.t.Cleanup(func() { _ = rdb.Close() })
	in, err := ingest.New(ingest.Config{Store: jobs.NewStore(rdb), Enqueuer: asynq.NewClientFromRedisClient(rdb), RunID: runID})
	if err != nil {
		b.t.Fatal(err)
	}
	res, err := in.Ingest(b.ctx, runID+".csv", strings.NewReader(data))
	if err != nil {
		b.t.Fatalf("Ingest(%s) = %v", runID, err)
	}
	return res
}

// report returns a run's CSV report (failed-only when asked) as records by column name.
func (b *bundle) report(runID string, failedOnly bool) (string, []map[string]string) {
	b.t.Helper()
	var buf bytes.Buffer
	if _, err := report.Write(b.ctx, &buf, b.store, runID, jobs.ReportOptions{FailedOnly: failedOnly}); err != nil {
		b.t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		b.t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return buf.String(), out
}

// TestStytchRowsByEmail resolves Stytch rows by email over HTTP against the fake: one member
// (reactivated, its id in the report beside the email), none (not_found), two (rejected,
// ambiguous, both ids named), an empty or malformed email (invalid, never queued). Each queued
// email row costs exactly one search, and each account found exactly one call; the failed-only
// report is valid input again, with the ids the lookups found.
func TestStytchRowsByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stytch.AddMember(orgID, member(1), "deleted", true)
	b.stytch.SetMemberEmail(member(1), "ada@example.com")
	b.stytch.AddMember(orgID, member(2), "deleted", true)
	b.stytch.SetMemberEmail(member(2), "twin@example.com")
	b.stytch.AddMember(orgID, member(3), "deleted", true)
	b.stytch.SetMemberEmail(member(3), "twin@example.com")
	b.stytch.AddMember(orgID, member(4), "deleted", false) // found, but Stytch refuses: no verified email
	b.stytch.SetMemberEmail(member(4), "ken@example.com")
	b.stytch.AddMember(orgID, member(5), "deleted", true)
	data := "organization_id,member_id,email,name\n" +
		orgID + ",,ada@example.com,Ada\n" + // 2: one member
		orgID + ",,nobody@example.com,Nobody\n" + // 3: none
		orgID + ",,twin@example.com,Twins\n" + // 4: two
		orgID + ",,,Empty\n" + // 5: invalid
		orgID + ",,not an email,Bad\n" + // 6: invalid
		orgID + ",,ken@example.com,Ken\n" + // 7: found, unverified
		orgID + "," + member(5) + ",,Id row\n" + // 8: an id row beside them
		orgID + ",,ADA@example.com,Ada again\n" // 9: another lookup value, the same member: whichever line comes second finds it active
	res := b.ingestCSV("email", data)
	if res.Invalid != 2 || res.Queued != 6 {
		t.Fatalf("Ingest = %+v, want 2 invalid and 6 queued", res)
	}
	b.start(b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client}))
	b.waitFinished("email", time.Minute)

	want := map[int]struct {
		outcome jobs.Outcome
		reason  string
		id      string
	}{
		3: {jobs.NotFound, jobs.ReasonNoAccountWithEmail, ""},
		4: {jobs.Rejected, jobs.ReasonAmbiguous, ""},
		5: {jobs.Invalid, "", ""},
		6: {jobs.Invalid, "", ""},
		7: {jobs.UnverifiedEmail, "", member(4)},
		8: {jobs.Reactivated, "", ""},
	}
	for line, w := range want {
		got := b.outcome("email", line)
		if got.Outcome != w.outcome || (w.reason != "" && got.Reason != w.reason) || got.ResolvedID != w.id {
			t.Errorf("line %d = %s/%s resolved %q (%s), want %s/%s resolved %q", line, got.Outcome, got.Reason, got.ResolvedID, got.Message, w.outcome, w.reason, w.id)
		}
	}
	first, second := b.outcome("email", 2), b.outcome("email", 9)
	if first.Outcome != jobs.Reactivated {
		first, second = second, first
	}
	if first.Outcome != jobs.Reactivated || second.Reason != jobs.ReasonAlreadyActive || first.ResolvedID != member(1) || second.ResolvedID != member(1) {
		t.Errorf("lines 2 and 9 = %+v and %+v, want one reactivated and one already active, both member 1", first, second)
	}
	if m := b.outcome("email", 4).Message; !strings.Contains(m, member(2)) || !strings.Contains(m, member(3)) {
		t.Errorf("line 4 message = %q, want both members' ids", m)
	}
	if m := b.outcome("email", 5).Message; !strings.Contains(m, "member_id, email are all empty") {
		t.Errorf("line 5 message = %q, want it to say the id and the email are empty", m)
	}
	if m := b.outcome("email", 6).Message; !strings.Contains(m, "is not an email address") {
		t.Errorf("line 6 message = %q, want it to say the email is malformed", m)
	}
	// Lines 2, 3, 4, 7 and 9 are email rows: one search each, nothing else read before the
	// calls (line 9's not_deactivated adds its one state read after its call).
	if n := b.stytch.Requests(searchPath); n != 5 {
		t.Errorf("searches = %d, want 5: exactly one per queued email row", n)
	}
	for i, w := range map[int]int{1: 2, 2: 0, 3: 0, 4: 1, 5: 1} {
		if c := b.stytch.Calls(orgID + "/" + member(i)); c != w {
			t.Errorf("reactivate calls of member %d = %d, want %d", i, c, w)
		}
	}

	_, rows := b.report("email", false)
	byLine := map[string]map[string]string{}
	for _, r := range rows {
		byLine[r["line"]] = r
	}
	if r := byLine["2"]; r["member_id"] != member(1) || r["email"] != "ada@example.com" || r["organization_id"] != orgID || r["name"] != "Ada" {
		t.Errorf("report line 2 = %v, want the resolved member id beside the input's email and name", r)
	}
	if r := byLine["3"]; r["member_id"] != "" || r["email"] != "nobody@example.com" {
		t.Errorf("report line 3 = %v, want no member id and the email", r)
	}

	// The failed-only report is input again: the rows a lookup found come back by id, the others
	// by email.
	failed, _ := b.report("email", true)
	rd, err := ingest.NewReader("email.failed.csv", strings.NewReader(failed), ingest.Options{})
	if err != nil {
		t.Fatalf("NewReader(failed-only report) = %v\n%s", err, failed)
	}
	got := map[string]jobs.Row{}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[rec.Extra[0]] = rec.Row
	}
	if r := got["ken@example.com"]; r.MemberID != member(4) || r.NeedsLookup() {
		t.Errorf("failed-only row of ken = %+v, want member %s by id", r, member(4))
	}
	if r := got["nobody@example.com"]; !r.NeedsLookup() || r.Lookup != jobs.LookupEmail || r.LookupValue != "nobody@example.com" {
		t.Errorf("failed-only row of nobody = %+v, want a lookup by email", r)
	}
}

// TestZitadelRowsByLookup resolves ZITADEL rows by email, login name and user name, on v2 and
// v1: one user (reactivated; v1 calls in the user's organisation, which the lookup found),
// none (not_found), two (rejected, ambiguous). Each queued lookup row costs exactly one listing.
func TestZitadelRowsByLookup(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"v2", "v1"} {
		for _, col := range []jobs.Lookup{jobs.LookupEmail, jobs.LookupLoginName, jobs.LookupUsername} {
			t.Run(api+"/"+string(col), func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				z := fakeidp.NewZitadel("127.0.0.1")
				url, stop := fakeidp.Serve(z)
				t.Cleanup(stop)
				const own, other, pat = "400907376431008806", "500907376431008806", "pat-secret-token-value"
				z.AddOrg(own)
				z.AddToken(pat, own)
				// The one match lives in the other organisation: v1 must call it there.
				z.AddZitadelUser(fakeidp.ZitadelUser{ID: "1001", OrgID: other, State: fakeidp.ZitadelInactive, UserName: "ada", Email: "ada@example.com"})
				z.AddZitadelUser(fakeidp.ZitadelUser{ID: "1002", OrgID: own, State: fakeidp.ZitadelInactive, UserName: "twin", Email: "twin@example.com"})
				z.AddZitadelUser(fakeidp.ZitadelUser{ID: "1003", OrgID: other, State: fakeidp.ZitadelInactive, UserName: "twin", Email: "twin@example.com"})
				c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: url, API: api, Token: pat, Timeout: 2 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				v := func(name string) string {
					if col == jobs.LookupEmail {
						return name + "@example.com"
					}
					return name
				}
				data := fmt.Sprintf("%s,note\n%s,one\n%s,none\n%s,two\n,empty\n", strings.ToUpper(string(col)), v("ada"), v("nobody"), v("twin"))
				if res := b.ingestCSV("z", data); res.Provider != jobs.Zitadel || res.Queued != 3 || res.Invalid != 1 {
					t.Fatalf("Ingest = %+v, want ZITADEL, 3 queued, 1 invalid", res)
				}
				b.start(b.config(map[jobs.Provider]Caller{jobs.Zitadel: c}))
				b.waitFinished("z", time.Minute)
				for line, w := range map[int]jobs.Outcome{2: jobs.Reactivated, 3: jobs.NotFound, 4: jobs.Rejected, 5: jobs.Invalid} {
					if got := b.outcome("z", line); got.Outcome != w {
						t.Errorf("line %d = %s/%s (%s), want %s", line, got.Outcome, got.Reason, got.Message, w)
					}
				}
				if got := b.outcome("z", 2); got.ResolvedID != "1001" || got.ResolvedOrg != other {
					t.Errorf("line 2 resolved %q in %q, want 1001 in %s", got.ResolvedID, got.ResolvedOrg, other)
				}
				if got := b.outcome("z", 3).Reason; got != jobs.ReasonNoAccountWithEmail {
					t.Errorf("line 3 reason = %q, want %s", got, jobs.ReasonNoAccountWithEmail)
				}
				if got := b.outcome("z", 4); got.Reason != jobs.ReasonAmbiguous || !strings.Contains(got.Message, "1002") || !strings.Contains(got.Message, "1003") {
					t.Errorf("line 4 = %s: %s, want ambiguous naming 1002 and 1003", got.Reason, got.Message)
				}
				if z.State("1001") != "active" || z.State("1002") != "inactive" || z.State("1003") != "inactive" {
					t.Errorf("states = %s %s %s, want only 1001 reactivated", z.State("1001"), z.State("1002"), z.State("1003"))
				}
				if n := z.Requests("/v2/users"); n != 3 {
					t.Errorf("listings = %d, want 3: exactly one per queued lookup row", n)
				}
				_, rows := b.report("z", false)
				if r := rows[0]; r["user_id"] != "1001" || r["organization_id"] != other || r[strings.ToUpper(string(col))] != v("ada") {
					t.Errorf("report line 2 = %v, want user 1001 of %s beside the input's %s", r, other, col)
				}
			})
		}
	}
}

// The ZITADEL client is the LookupChecker the worker asks before its lookups.
var _ LookupChecker = (*zitadel.Client)(nil)

// TestZitadelLookupsNeedARole: ZITADEL answers ListUsers of a service user without any role with
// 200 and only itself, so its lookups alone would end every row not_found. Before its first
// lookup the worker checks the service user's permissions as find and plan do: without a role,
// or with a viewer's role only, ZITADEL pauses with a message naming the role to grant, no row
// ends, nothing is listed or reactivated; once the role is granted and ZITADEL resumed, the same
// worker checks again and finishes the run. With the role from the start the rows resolve and
// the check is made once for the whole run.
func TestZitadelLookupsNeedARole(t *testing.T) {
	t.Parallel()
	const own, pat, n = "400907376431008806", "pat-of-the-service-user", 5
	manager := fakeidp.Membership{OrgID: own, Roles: []string{fakeidp.RoleOrgUserManager}}
	for _, tt := range []struct {
		name  string
		roles []fakeidp.Membership
	}{
		{"no role", nil},
		{"viewer only", []fakeidp.Membership{{OrgID: own, Roles: []string{fakeidp.RoleOrgOwnerViewer}}}},
		{"user manager", []fakeidp.Membership{manager}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refused := len(tt.roles) == 0 || tt.roles[0].Roles[0] != fakeidp.RoleOrgUserManager
			b := setup(t)
			z := fakeidp.NewZitadel("127.0.0.1")
			url, stop := fakeidp.Serve(z)
			t.Cleanup(stop)
			z.AddOrg(own)
			z.AddServiceUser(pat, own, tt.roles...)
			var data strings.Builder
			data.WriteString("email\n")
			for i := 1; i <= n; i++ {
				id := fmt.Sprint(1000 + i)
				z.AddZitadelUser(fakeidp.ZitadelUser{ID: id, OrgID: own, State: fakeidp.ZitadelInactive, UserName: "u" + id, Email: "u" + id + "@example.com"})
				fmt.Fprintf(&data, "u%s@example.com\n", id)
			}
			c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: url, Token: pat, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res := b.ingestCSV("role", data.String()); res.Queued != n {
				t.Fatalf("Ingest = %+v, want %d queued", res, n)
			}
			b.start(b.config(map[jobs.Provider]Caller{jobs.Zitadel: c}))
			if refused {
				b.waitPauseNoted(jobs.Zitadel, "role")
				time.Sleep(500 * time.Millisecond) // give a wrongly unpaused worker the chance to end rows
				p, _ := b.store.Paused(b.ctx)
				if why := p[jobs.Zitadel].Reason; !strings.Contains(why, fakeidp.RoleOrgUserManager) || !strings.Contains(why, fakeidp.RoleIAMUserManager) {
					t.Errorf("pause reason = %q, want it to name %s and %s", why, fakeidp.RoleOrgUserManager, fakeidp.RoleIAMUserManager)
				}
				for line := 2; line <= n+1; line++ {
					if o, ok, err := b.store.Outcome(b.ctx, "role", line); err != nil || ok {
						t.Errorf("Outcome(role, %d) = %s/%s, %v, %v; want the row open", line, o.Outcome, o.Reason, ok, err)
					}
				}
				if r, _ := b.store.Run(b.ctx, "role"); r.Done != 0 {
					t.Errorf("rows done = %d, want 0: a pause ends no row", r.Done)
				}
				if got := z.TotalCalls(); got != 0 {
					t.Errorf("reactivate calls = %d, want 0", got)
				}
				if got := z.Requests("/v2/users"); got != 0 {
					t.Errorf("listings = %d, want 0: no lookup read before the permission check passes", got)
				}
				z.AddServiceUser(pat, own, manager)
				if err := Resume(b.ctx, b.rdb, jobs.Zitadel); err != nil {
					t.Fatal(err)
				}
				// The worker's view of the pause trails the store's by up to half a second; rows
				// that met it in that time wait out their pause: bring them back until none is left.
				b.wait("the rows after the resume", time.Minute, func() bool {
					r, err := b.store.Run(b.ctx, "role")
					if err == nil && r.State == jobs.RunFinished {
						return true
					}
					if err := Resume(b.ctx, b.rdb, jobs.Zitadel); err != nil {
						t.Fatal(err)
					}
					return false
				})
			}
			if run := b.waitFinished("role", time.Minute); run.Counts[jobs.Reactivated] != n {
				t.Errorf("counts = %v, want %d reactivated", run.Counts, n)
			}
			if got := z.Requests("/v2/users"); got != n {
				t.Errorf("listings = %d, want %d: one per row", got, n)
			}
			if !refused {
				if got := z.Requests("/auth/v1/memberships/me/_search"); got != 1 {
					t.Errorf("membership look-ups = %d, want 1: the check passes once for the process", got)
				}
			}
		})
	}
}

// TestLookupStopCallsNothing stops a worker whose email rows wait for a slow rate budget before
// their lookups: no look-up read nor call whose check before it (the pause read right before the
// lookup, Begin before the call) left for Redis after the stop is sent, counted by the order of
// the check and the stop (the shared checkedCalls verdict), not by a time allowed for requests on
// the wire; and a new worker finishes the run calling every member exactly once.
func TestLookupStopCallsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 60
	var data strings.Builder
	data.WriteString("organization_id,email\n")
	for i := 1; i <= n; i++ {
		b.stytch.AddMember(orgID, member(i), "deleted", true)
		b.stytch.SetMemberEmail(member(i), fmt.Sprintf("m%d@example.com", i))
		fmt.Fprintf(&data, "%s,m%d@example.com\n", orgID, i)
	}
	b.ingestCSV("stop", data.String())
	checks := newPreCallChecks()
	calls := checkedLookups{&checkedCalls{Caller: b.client, checks: checks}}
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: calls})
	cfg.Redis = b.checkedRedis(checks)
	cfg.Concurrency = 30
	cfg.Limits = map[jobs.Provider]Limit{jobs.Stytch: {PerSecond: 5}}
	stop := b.startStoppable(cfg)
	b.wait("a few searches", 20*time.Second, func() bool { return b.stytch.Requests(searchPath) >= 3 })
	stoppedAt := stop()
	if got := b.stytch.Requests(searchPath) + b.stytch.TotalCalls(); calls.count() < got {
		t.Fatalf("the verdict judges %d calls, the fake saw %d searches and calls: every one must pass the judge", calls.count(), got)
	}
	calls.verdict(stoppedAt).check(t, "the worker was told to stop")
	t.Logf("requests after the stop: %d (those on the wire or checked before it)", b.stytch.RequestsSince(stoppedAt))
	searched := b.stytch.Requests(searchPath)
	if searched >= n {
		t.Fatalf("%d searches before the stop, want the stop to come while rows wait", searched)
	}

	cfg.Limits = nil
	b.start(cfg)
	run := b.waitFinished("stop", time.Minute)
	if run.Counts[jobs.Reactivated] != n {
		t.Fatalf("after the restart counts = %v, want %d reactivated", run.Counts, n)
	}
	for i := 1; i <= n; i++ {
		if c := b.stytch.Calls(orgID + "/" + member(i)); c != 1 {
			t.Errorf("member %d called %d times, want 1", i, c)
		}
	}
}

// TestLookupFatalAnswerPauses revokes the credentials before the first lookup: the search's 401
// pauses Stytch, nothing is reactivated, no row burns; with the secret back and the provider
// resumed, the run finishes.
func TestLookupFatalAnswerPauses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var data strings.Builder
	data.WriteString("organization_id,email\n")
	for i := 1; i <= 5; i++ {
		b.stytch.AddMember(orgID, member(i), "deleted", true)
		b.stytch.SetMemberEmail(member(i), fmt.Sprintf("m%d@example.com", i))
		fmt.Fprintf(&data, "%s,m%d@example.com\n", orgID, i)
	}
	b.ingestCSV("fatal", data.String())
	b.stytch.SetSecret("another-secret-entirely")
	cfg := b.config(map[jobs.Provider]Caller{jobs.Stytch: b.client})
	stop := b.start(cfg)
	b.waitPauseNoted(jobs.Stytch, "fatal")
	time.Sleep(500 * time.Millisecond) // give a wrongly unpaused worker the chance to burn rows
	if c := b.stytch.TotalCalls(); c != 0 {
		t.Errorf("reactivate calls = %d, want 0", c)
	}
	if r, _ := b.store.Run(b.ctx, "fatal"); r.Done != 0 {
		t.Errorf("rows done = %d, want 0: a pause burns no row", r.Done)
	}
	stop()
	b.stytch.SetSecret(secret)
	if err := Resume(b.ctx, b.rdb, jobs.Stytch); err != nil {
		t.Fatal(err)
	}
	b.start(cfg)
	if run := b.waitFinished("fatal", time.Minute); run.Counts[jobs.Reactivated] != 5 {
		t.Errorf("after resume counts = %v, want 5 reactivated", run.Counts)
	}
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: time.Second, Cap: time.Minute}
	tests := []struct {
		name       string
		n          int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
	}{
		{"first retry, top of window", 1, 0, 0.999999, 999999 * time.Microsecond},
		{"first retry, middle", 1, 0, 0.5, 500 * time.Millisecond},
		{"third retry doubles twice", 3, 0, 0.5, 2 * time.Second},
		{"capped", 20, 0, 0.5, 30 * time.Second},
		{"huge n stays capped", 500, 0, 0.5, 30 * time.Second},
		{"floor of 100ms", 1, 0, 0, 100 * time.Millisecond},
		{"retry-after longer wins", 1, 45 * time.Second, 0.5, 45 * time.Second},
		{"retry-after shorter loses", 6, time.Second, 0.5, 16 * time.Second},
		{"zero n treated as first", 0, 0, 0.5, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := b.Delay(tt.n, tt.retryAfter, tt.rnd); got != tt.want {
				t.Errorf("Delay(%d, %v, %v) = %v, want %v", tt.n, tt.retryAfter, tt.rnd, got, tt.want)
			}
		})
	}
	if got := (Backoff{}).Delay(30, 0, 0.999); got > 10*time.Minute || got < 9*time.Minute {
		t.Errorf("zero Backoff Delay(30) = %v, want just under the 10m default cap", got)
	}
}

func TestIsFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&RetryError{Reason: "503", Failure: true}, true},
		{fmt.Errorf("wrapped: %w", &RetryError{Reason: "rate budget"}), false},
		{&RetryError{Reason: "paused"}, false},
		{errors.New("redis down"), true},
	}
	for _, tt := range tests {
		if got := isFailure(tt.err); got != tt.want {
			t.Errorf("isFailure(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// waitPauseNoted waits until provider is paused and the run runID carries the pause's note.
func (b *bundle) waitPauseNoted(provider jobs.Provider, runID string) {
	b.t.Helper()
	b.wait("the pause and its note on the run", 30*time.Second, func() bool {
		p, err := b.store.Paused(b.ctx)
		_, ok := p[provider]
		r, rerr := b.store.Run(b.ctx, runID)
		return err == nil && ok && rerr == nil && r.Note != ""
	})
}
