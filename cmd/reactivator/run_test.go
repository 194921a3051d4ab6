// This file tests the run command: as a built binary against the fakes (every outcome, Ctrl-C and
// resume on the embedded redis-server), and in-process (credentials, pauses, the Redis kinds).

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/embedredis"
	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/jobs/reportfile"
)

// buildBinary builds the reactivator binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "reactivator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is a minimal environment for the binary: PATH (for redis-server), a private HOME and
// state directory, and the given variables.
func binaryEnv(t *testing.T, stateDir string, kv ...string) []string {
	t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "REACTIVATOR_STATE_DIR=" + stateDir}
	return append(env, kv...)
}

// binaryRun is one run of the binary.
type binaryRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func startBinary(t *testing.T, bin, dir string, env []string, args ...string) *binaryRun {
	t.Helper()
	r := &binaryRun{cmd: exec.Command(bin, append([]string{"--log-format", "text"}, args...)...)}
	r.cmd.Dir, r.cmd.Env, r.cmd.Stdout, r.cmd.Stderr = dir, env, &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

// wait waits for the binary and returns its result.
func (r *binaryRun) wait(t *testing.T) result {
	t.Helper()
	err := r.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("wait for the binary: %v", err)
	}
	return result{code: r.cmd.ProcessState.ExitCode(), stdout: r.stdout.String(), stderr: r.stderr.String()}
}

func runBinary(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	return startBinary(t, bin, dir, env, args...).wait(t)
}

// readReport reads a report CSV: its header, and its rows by the line column.
func readReport(t *testing.T, path string) ([]string, map[int]map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open report: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read report %s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("report %s is empty", path)
	}
	rows := map[int]map[string]string{}
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		line, _ := strconv.Atoi(m["line"])
		rows[line] = m
	}
	return recs[0], rows
}

// caseNamed returns the answer of fakeidp.Cases with that name.
func caseNamed(t *testing.T, name string) fakeidp.Case {
	t.Helper()
	for _, c := range fakeidp.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q in fakeidp.Cases", name)
	return fakeidp.Case{}
}

func repeat(c fakeidp.Case, n int) []fakeidp.Case {
	out := make([]fakeidp.Case, n)
	for i := range out {
		out[i] = c
	}
	return out
}

const (
	bOrg  = "organization-test-00000000-0000-4000-8000-0000000000aa"
	bZOrg = "300000000000000001"
)

func bMember(i int) string { return fmt.Sprintf("member-test-00000000-0000-4000-8000-%012d", i) }
func bUser(i int) string   { return fmt.Sprintf("4000000000000%05d", i) }

// TestRunBinaryEveryOutcome runs the built binary on a Stytch and a ZITADEL file that between
// them end in every outcome, and checks both reports row by row, the calls each account got, the
// exit code, and that the failed rows it writes are accepted by run again.
func TestRunBinaryEveryOutcome(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()

	const secret, token = "secret-test-binary-every-outcome-0123456789=", "zitadel-pat-binary-every-outcome"
	st := fakeidp.NewStytch(wProjectID, secret)
	st.AddOrg(bOrg, "acme")
	st.AddMember(bOrg, bMember(1), fakeidp.StytchDeleted, true)
	st.AddMember(bOrg, bMember(2), fakeidp.StytchActive, true)
	st.AddMember(bOrg, bMember(3), fakeidp.StytchDeleted, false)
	// bMember(4) does not exist.
	st.AddMember(bOrg, bMember(5), fakeidp.StytchDeleted, true)
	st.Script(bOrg, bMember(5), caseNamed(t, "stytch/email_taken"))
	st.AddMember(bOrg, bMember(6), fakeidp.StytchDeleted, true)
	st.Script(bOrg, bMember(6), repeat(caseNamed(t, "stytch/internal_server_error"), 10)...)
	st.AddMember(bOrg, bMember(7), fakeidp.StytchDeleted, true)
	stURL, stStop := fakeidp.Serve(st)
	defer stStop()

	z := fakeidp.NewZitadel("")
	z.AddToken(token, bZOrg)
	z.AddUser(bUser(1), bZOrg, fakeidp.ZitadelInactive)
	z.AddUser(bUser(2), bZOrg, fakeidp.ZitadelActive)
	// bUser(3) does not exist.
	z.AddUser(bUser(4), bZOrg, fakeidp.ZitadelInactive)
	z.Script(bUser(4), caseNamed(t, "zitadel_v2/failed_precondition_unknown_id"))
	z.AddUser(bUser(5), bZOrg, fakeidp.ZitadelInactive)
	z.Script(bUser(5), repeat(caseNamed(t, "zitadel_v2/unavailable"), 10)...)
	zURL, zStop := fakeidp.Serve(z)
	defer zStop()

	members := filepath.Join(dir, "members.csv")
	writeFile(t, members, "organization_id,member_id,note\n"+
		bOrg+","+bMember(1)+",deleted and verified\n"+ // 2 reactivated
		bOrg+","+bMember(2)+",active\n"+ // 3 not_deactivated
		bOrg+","+bMember(3)+",no verified email\n"+ // 4 unverified_email
		bOrg+","+bMember(4)+",no such member\n"+ // 5 not_found
		bOrg+","+bMember(5)+",email taken\n"+ // 6 rejected
		bOrg+","+bMember(6)+",outage\n"+ // 7 failed
		bOrg+",not-a-member-id,typo\n"+ // 8 invalid
		bOrg+","+bMember(1)+",again\n"+ // 9 duplicate
		"acme,"+bMember(7)+",by slug\n") // 10 reactivated
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "user_id,note\n"+
		bUser(1)+",inactive\n"+ // 2 reactivated
		bUser(2)+",active\n"+ // 3 not_deactivated
		bUser(3)+",unknown\n"+ // 4 not_found
		bUser(4)+",strange state\n"+ // 5 rejected
		bUser(5)+",outage\n"+ // 6 failed
		"1/2,slash\n"+ // 7 invalid
		bUser(1)+",again\n") // 8 duplicate

	env := binaryEnv(t, filepath.Join(dir, "state"),
		"STYTCH_PROJECT_ID="+wProjectID, "STYTCH_SECRET="+secret, "STYTCH_BASE_URL="+stURL,
		"ZITADEL_URL="+zURL, "ZITADEL_TOKEN="+token)
	res := runBinary(t, bin, dir, env, "run", "--max-attempts", "2", "--report", "reports", "members.csv", "users.csv")
	if res.code != exitSomeFailed {
		t.Fatalf("run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	for _, s := range []string{secret, token} {
		if strings.Contains(res.stdout+res.stderr, s) {
			t.Errorf("run output leaks a secret:\n%s", res)
		}
	}
	if !strings.Contains(res.stderr, "using a private redis-server, state in") {
		t.Errorf("run does not say which Redis it uses:\n%s", res)
	}

	type want struct {
		outcome jobs.Outcome
		calls   int
	}
	check := func(report string, wantRows map[int]want, key func(line int, row map[string]string) string, calls func(string) int) {
		t.Helper()
		header, rows := readReport(t, report)
		if wantHeader := append(slices.Clone(jobs.ReportColumns), "note"); !slices.Equal(header, wantHeader) {
			t.Errorf("%s header = %v, want %v", report, header, wantHeader)
		}
		if len(rows) != len(wantRows) {
			t.Errorf("%s has %d rows, want %d", report, len(rows), len(wantRows))
		}
		for line, w := range wantRows {
			row, ok := rows[line]
			if !ok {
				t.Errorf("%s has no line %d", report, line)
				continue
			}
			if got := jobs.Outcome(row["outcome"]); got != w.outcome {
				t.Errorf("%s line %d outcome = %s (%s: %s), want %s", report, line, got, row["reason"], row["message"], w.outcome)
			}
			if k := key(line, row); k != "" {
				if got := calls(k); got != w.calls {
					t.Errorf("%s line %d: %s got %d calls, want %d", report, line, k, got, w.calls)
				}
			}
		}
	}
	stytchKey := func(_ int, row map[string]string) string {
		if !strings.HasPrefix(row["member_id"], "member-test-") {
			return ""
		}
		return row["organization_id"] + "/" + row["member_id"]
	}
	check(filepath.Join(dir, "reports", "members.csv.report.csv"), map[int]want{
		2: {jobs.Reactivated, 1}, 3: {jobs.NotDeactivated, 1}, 4: {jobs.UnverifiedEmail, 1}, 5: {jobs.NotFound, 1},
		6: {jobs.Rejected, 1}, 7: {jobs.Failed, 2}, 8: {jobs.Invalid, 0}, 9: {jobs.Duplicate, 1}, 10: {jobs.Reactivated, 1},
	}, stytchKey, st.Calls)
	check(filepath.Join(dir, "reports", "users.csv.report.csv"), map[int]want{
		2: {jobs.Reactivated, 1}, 3: {jobs.NotDeactivated, 1}, 4: {jobs.NotFound, 1}, 5: {jobs.Rejected, 1},
		6: {jobs.Failed, 2}, 7: {jobs.Invalid, 0}, 8: {jobs.Duplicate, 1},
	}, func(_ int, row map[string]string) string {
		if strings.Contains(row["user_id"], "/") {
			return ""
		}
		return row["user_id"]
	}, z.Calls)
	if got := st.Status(bOrg, bMember(1)); got != fakeidp.StytchActive {
		t.Errorf("member 1 status after run = %q, want active", got)
	}
	for _, s := range []string{"members.csv: run stytch-", "users.csv: run zitadel-", "reports/members.csv.failed.csv",
		"fix them, then: reactivator run reports/users.csv.failed.csv", jobs.UnverifiedEmail.Advice()} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("run summary does not say %q:\n%s", s, res.stdout)
		}
	}

	// The failed rows it wrote are valid input for run: fixed or not, they go again.
	failed := filepath.Join("reports", "members.csv.failed.csv")
	_, failedRows := readReport(t, filepath.Join(dir, failed))
	// Line 3 (not_deactivated, its account found active) is not among them: nothing to fix.
	if len(failedRows) != 5 || failedRows[3] != nil {
		t.Errorf("%s has %d rows (line 3: %v), want the 5 permanent failures, not the already active line 3", failed, len(failedRows), failedRows[3])
	}
	again := runBinary(t, bin, dir, env, "run", "--max-attempts", "2", failed)
	if again.code != exitSomeFailed {
		t.Fatalf("run %s = exit %d, want %d\n%s", failed, again.code, exitSomeFailed, again)
	}
	if !strings.Contains(again.stdout, "members.csv.failed.csv: run stytch-") || !strings.Contains(again.stdout, ", 5 rows") {
		t.Errorf("run of the failed rows does not report a 5-row Stytch run:\n%s", again)
	}
	// Its report keeps the input's stem: members.csv.report.csv, not members.csv.failed.csv.report.csv.
	if _, err := os.Stat(filepath.Join(dir, "members.csv.report.csv")); err != nil {
		t.Errorf("report of the failed rows' run: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRunBinaryInterruptResumes interrupts the binary with SIGINT mid-run, then runs the same
// command again on the same embedded state, and checks that it finishes without calling any
// account twice (a row in flight at the interrupt may get one more call, and only such a row).
func TestRunBinaryInterruptResumes(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")

	const token, n = "zitadel-pat-binary-interrupt", 200
	z := fakeidp.NewZitadel("")
	z.AddToken(token, bZOrg)
	z.SetFaults(fakeidp.Faults{Latency: 250 * time.Millisecond})
	var sb strings.Builder
	sb.WriteString("user_id\n")
	for i := 1; i <= n; i++ {
		z.AddUser(bUser(i), bZOrg, fakeidp.ZitadelInactive)
		fmt.Fprintf(&sb, "%s\n", bUser(i))
	}
	zURL, zStop := fakeidp.Serve(z)
	defer zStop()
	writeFile(t, filepath.Join(dir, "users.csv"), sb.String())
	env := binaryEnv(t, stateDir, "ZITADEL_URL="+zURL, "ZITADEL_TOKEN="+token)
	args := []string{"run", "--rate", "zitadel=20", "--concurrency", "4", "users.csv"}

	first := startBinary(t, bin, dir, env, args...)
	deadline := time.Now().Add(time.Minute)
	for z.TotalCalls() < 20 && time.Now().Before(deadline) && first.cmd.ProcessState == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	res := first.wait(t)
	if res.code != exitInterrupted {
		t.Fatalf("interrupted run = exit %d, want %d\n%s", res.code, exitInterrupted, res)
	}
	if !strings.Contains(res.stderr, "interrupted: progress kept; run the same command to resume") {
		t.Errorf("interrupted run does not say how to resume:\n%s", res)
	}
	callsBefore := map[string]int{}
	for i := 1; i <= n; i++ {
		callsBefore[bUser(i)] = z.Calls(bUser(i))
	}

	// Read what the first run recorded, from its state directory.
	inFlight := map[string]bool{}
	func() {
		emb, err := embedredis.Start(context.Background(), embedredis.Options{StateDir: stateDir})
		if err != nil {
			t.Fatalf("open the state of the interrupted run: %v", err)
		}
		defer emb.Close()
		opt, err := asynq.ParseRedisURI(emb.URL())
		if err != nil {
			t.Fatal(err)
		}
		client := opt.MakeRedisClient().(redis.UniversalClient)
		defer client.Close()
		store := jobs.NewStore(client)
		runs, err := store.Runs(context.Background())
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs in the state after the interrupt = %v, %v, want one", runs, err)
		}
		run := runs[0]
		if run.Done == 0 || run.Done >= n {
			t.Fatalf("rows done at the interrupt = %d of %d: the interrupt did not come mid-run", run.Done, n)
		}
		for i := 1; i <= n; i++ {
			_, done, err := store.Outcome(context.Background(), run.ID, i+1)
			if err != nil {
				t.Fatal(err)
			}
			if !done && callsBefore[bUser(i)] > 0 {
				inFlight[bUser(i)] = true
			}
		}
	}()

	second := runBinary(t, bin, dir, env, args...)
	if second.code != exitOK {
		t.Fatalf("resumed run = exit %d, want 0\n%s", second.code, second)
	}
	if !strings.Contains(second.stderr, "already done") {
		t.Errorf("resumed run does not say rows were already done:\n%s", second)
	}
	_, rows := readReport(t, filepath.Join(dir, "users.csv.report.csv"))
	if len(rows) != n {
		t.Fatalf("report has %d rows, want %d", len(rows), n)
	}
	for line, row := range rows {
		if row["outcome"] != string(jobs.Reactivated) {
			t.Errorf("report line %d outcome = %s (%s), want reactivated", line, row["outcome"], row["message"])
		}
	}
	for i := 1; i <= n; i++ {
		id := bUser(i)
		limit := 1
		if inFlight[id] {
			limit = 2
		}
		if got := z.Calls(id); got < 1 || got > limit {
			t.Errorf("user %s got %d calls (%d before the interrupt, in flight %v), want 1..%d", id, got, callsBefore[id], inFlight[id], limit)
		}
	}
}

// TestRunBadCredentialsExits4 checks that refused credentials stop run before anything is
// queued or called, with exit 4 and the reason.
func TestRunBadCredentialsExits4(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 5)
	w.setenv("STYTCH_SECRET", "secret-test-wrong-0000000000000000000000=")
	res := w.run("run", "--report", filepath.Join(w.dir, "r.csv"), path)
	if res.code != exitFatal {
		t.Fatalf("run with a wrong secret = exit %d, want %d\n%s", res.code, exitFatal, res)
	}
	if !strings.Contains(res.stderr, "credentials refused") || !strings.Contains(res.stderr, "nothing was called") {
		t.Errorf("run with a wrong secret does not say why and that nothing was called:\n%s", res)
	}
	if got := w.stytch.TotalCalls(); got != 0 {
		t.Errorf("reactivate calls = %d, want 0", got)
	}
	if runs, err := w.store.Runs(context.Background()); err != nil || len(runs) != 0 {
		t.Errorf("runs after a refused check = %v, %v, want none", runs, err)
	}
}

// TestRunSharedRedis runs on the shared Redis of REDIS_URL: all rows reactivated, exit 0, the
// report at --report, and the run visible to status.
func TestRunSharedRedis(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.zitadelCSV("users.csv", 12)
	report := filepath.Join(w.dir, "out", "users-report.csv")
	res := w.run("run", "--report", report, path)
	if res.code != exitOK {
		t.Fatalf("run = exit %d, want 0\n%s", res.code, res)
	}
	if !strings.Contains(res.stderr, "using the Redis at redis://") {
		t.Errorf("run does not say it uses REDIS_URL:\n%s", res)
	}
	_, rows := readReport(t, report)
	if len(rows) != 12 {
		t.Errorf("report has %d rows, want 12", len(rows))
	}
	if _, err := os.Stat(reportfile.FailedBeside(report)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed rows file of a run without failures: %v, want none", err)
	}
	runs, err := w.store.Runs(context.Background())
	if err != nil || len(runs) != 1 || runs[0].State != jobs.RunFinished {
		t.Errorf("runs on the shared Redis = %+v, %v, want one finished run", runs, err)
	}
}

// TestRunInProcessRedis runs on the in-process Redis: the worker's and the run store's scripts
// work on it, and run says such a run cannot resume.
func TestRunInProcessRedis(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.setenv("REDIS_URL", "")
	path := w.stytchCSV("members.csv", 6, 4)
	report := filepath.Join(w.dir, "members.report.csv")
	res := w.run("run", "--in-process-redis", "--report", report, path)
	if res.code != exitSomeFailed {
		t.Fatalf("run = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
	if !strings.Contains(res.stderr, "using an in-process Redis: an interrupted run cannot resume") {
		t.Errorf("run does not say the in-process Redis cannot resume:\n%s", res)
	}
	_, rows := readReport(t, report)
	for line := 2; line <= 7; line++ {
		want := jobs.Reactivated
		if line == 5 {
			want = jobs.NotFound
		}
		if got := jobs.Outcome(rows[line]["outcome"]); got != want {
			t.Errorf("line %d outcome = %s, want %s", line, got, want)
		}
	}
	if _, failedRows := readReport(t, reportfile.FailedBeside(report)); len(failedRows) != 1 || failedRows[5] == nil {
		t.Errorf("failed rows = %v, want line 5 only", failedRows)
	}
}

// TestRunFatalStopsThenSameCommandFinishes: a fatal answer mid-run pauses the provider and run
// exits 4 saying to fix it and run again; the same command then resumes the provider (its check
// passes) and finishes, calling no row twice.
func TestRunFatalStopsThenSameCommandFinishes(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 8)
	w.stytch.Script(wOrgID, stytchMember(3), caseNamed(t, "stytch/unauthorized_credentials"))
	report := filepath.Join(w.dir, "members.report.csv")
	args := []string{"run", "--concurrency", "1", "--report", report, path}

	res := w.run(args...)
	if res.code != exitFatal {
		t.Fatalf("run with a fatal answer = exit %d, want %d\n%s", res.code, exitFatal, res)
	}
	if !strings.Contains(res.stderr, "fix it, then run the same command again") {
		t.Errorf("run does not say what to do after a fatal answer:\n%s", res)
	}
	if _, err := os.Stat(report); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("report of a stopped run: %v, want none yet", err)
	}

	res = w.run(args...)
	if res.code != exitOK {
		t.Fatalf("same command again = exit %d, want 0\n%s", res.code, res)
	}
	if !strings.Contains(res.stderr, "stytch was paused by an earlier run") {
		t.Errorf("second run does not say it resumed the provider:\n%s", res)
	}
	for i := 1; i <= 8; i++ {
		want := 1
		if i == 3 {
			want = 2 // the fatal answer, then the call after the resume
		}
		if got := w.stytch.Calls(wOrgID + "/" + stytchMember(i)); got != want {
			t.Errorf("member %d calls = %d, want %d", i, got, want)
		}
	}
	if paused, err := w.store.Paused(context.Background()); err != nil || len(paused) != 0 {
		t.Errorf("paused after the second run = %v, %v, want none", paused, err)
	}
}

// TestRunNoCheckRefusesPausedProvider: with --no-check nothing proves a pause's cause is fixed,
// so run stops with exit 4 and says how to go on.
func TestRunNoCheckRefusesPausedProvider(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 2)
	if err := w.store.SetPaused(context.Background(), jobs.Pause{Provider: jobs.Stytch, Reason: "HTTP 401 unauthorized_credentials"}); err != nil {
		t.Fatal(err)
	}
	res := w.run("run", "--no-check", "--report", filepath.Join(w.dir, "r.csv"), path)
	if res.code != exitFatal || !strings.Contains(res.stderr, "reactivator resume stytch") {
		t.Errorf("run --no-check with a paused provider = %s, want exit 4 naming resume", res)
	}
	if got := w.stytch.TotalCalls(); got != 0 {
		t.Errorf("calls = %d, want 0", got)
	}
}

// TestRunNoCheckLookupsNeedARole: with --no-check nothing checks the ZITADEL service user's role
// before the run, and ZITADEL lists users to one without any role with 200 and only itself; the
// worker checks the role before its first lookup, so run stops with exit 4 naming the role to
// grant, having listed and called nothing, and no row ends not_found.
func TestRunNoCheckLookupsNeedARole(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	const tok = "zitadel-pat-of-a-role-less-service-user"
	w.zitadel.AddServiceUser(tok, wZOrg)
	w.setenv("ZITADEL_TOKEN", tok)
	w.zitadel.AddZitadelUser(fakeidp.ZitadelUser{ID: "1001", OrgID: wZOrg, State: fakeidp.ZitadelInactive, UserName: "ada", Email: "ada@example.com"})
	path := w.file("users.csv", "email\nada@example.com\ngrace@example.com\n")
	res := w.run("run", "--no-check", "--report", filepath.Join(w.dir, "r.csv"), path)
	if res.code != exitFatal || !strings.Contains(res.stderr, fakeidp.RoleOrgUserManager) {
		t.Errorf("run --no-check of lookup rows with a role-less service user = %s, want exit 4 naming %s", res, fakeidp.RoleOrgUserManager)
	}
	if strings.Contains(res.stdout+res.stderr, string(jobs.NotFound)) {
		t.Errorf("run --no-check of lookup rows with a role-less service user = %s, want no row not_found", res)
	}
	if got := w.zitadel.TotalCalls(); got != 0 {
		t.Errorf("reactivate calls = %d, want 0", got)
	}
	if got := w.zitadel.Requests("/v2/users"); got != 0 {
		t.Errorf("listings = %d, want 0", got)
	}
}

// TestRunRefusesBadInput checks the refusals that come before any call.
func TestRunRefusesBadInput(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	good := w.stytchCSV("members.csv", 2)
	bad := w.file("bad.csv", "hello,world\n1,2\n")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{name: "unreadable csv", args: []string{"run", good, bad}, wantCode: exitError, wantErr: "no usable header"},
		{name: "missing file", args: []string{"run", filepath.Join(w.dir, "nope.csv")}, wantCode: exitError, wantErr: "no such file"},
		{name: "provider not configured", args: []string{"run", good}, env: map[string]string{"STYTCH_PROJECT_ID": "", "STYTCH_SECRET": ""},
			wantCode: exitError, wantErr: "stytch is not configured"},
		{name: "report is a file with several inputs", args: []string{"run", "--report", good, good, good}, wantCode: exitUsage, wantErr: "names a directory"},
		{name: "run id with several files", args: []string{"run", "--run", "x", good, good}, wantCode: exitUsage, wantErr: "--run names one run"},
		{name: "bad rate", args: []string{"run", "--rate", "stytch=fast", good}, wantCode: exitUsage, wantErr: "--rate"},
	}
	var mu sync.Mutex // the world's env is shared by the rows
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			saved := map[string]string{}
			for k, v := range tt.env {
				saved[k] = w.getenv(k)
				w.setenv(k, v)
			}
			defer func() {
				for k, v := range saved {
					w.setenv(k, v)
				}
			}()
			res := w.run(tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("%v = %s\nwant exit %d and %q", tt.args, res, tt.wantCode, tt.wantErr)
			}
		})
	}
	if got := w.stytch.TotalCalls(); got != 0 {
		t.Errorf("calls = %d, want 0", got)
	}
}

// TestRunExitsZeroForAlreadyActiveAndDuplicates: a cron job reads exit 0 as "nothing to fix";
// an account already active and a row repeating another are not failures, so a run whose other
// rows were all reactivated exits 0 (and 3 once a real failure is among them).
func TestRunExitsZeroForAlreadyActiveAndDuplicates(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 3)
	w.stytch.AddMember(wOrgID, stytchMember(2), fakeidp.StytchActive, true)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dup := fmt.Sprintf("%s,%s,again@example.com\n", wOrgID, stytchMember(1))
	if err := os.WriteFile(path, append(data, dup...), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(w.dir, "members.report.csv")
	res := w.run("run", "--report", report, path)
	if res.code != exitOK {
		t.Fatalf("run of reactivated, already active and duplicate rows = exit %d, want %d\n%s", res.code, exitOK, res)
	}
	_, rows := readReport(t, report)
	for line, want := range map[int]jobs.Outcome{2: jobs.Reactivated, 3: jobs.NotDeactivated, 4: jobs.Reactivated, 5: jobs.Duplicate} {
		if got := jobs.Outcome(rows[line]["outcome"]); got != want {
			t.Errorf("line %d outcome = %s (%s), want %s", line, got, rows[line]["reason"], want)
		}
	}
	if rows[3]["reason"] != jobs.ReasonAlreadyActive {
		t.Errorf("line 3 reason = %q, want %q", rows[3]["reason"], jobs.ReasonAlreadyActive)
	}

	// A file with a member that does not exist is a run with a failure: exit 3.
	other := w.stytchCSV("more.csv", 5, 5)
	if res := w.run("run", "--report", filepath.Join(w.dir, "more.report.csv"), other); res.code != exitSomeFailed {
		t.Errorf("run with a not_found row = exit %d, want %d\n%s", res.code, exitSomeFailed, res)
	}
}
