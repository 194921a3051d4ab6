package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/internal/status"
	"reactivator/jobs"
)

// rowsWaiting returns how many rows of a provider's runs wait for their outcome: in the run store
// until the workers' window takes them, then as asynq tasks.
func (w *cliWorld) rowsWaiting(p jobs.Provider) int {
	w.t.Helper()
	runs, err := w.store.Runs(context.Background())
	if err != nil {
		w.t.Fatalf("store.Runs() = %v", err)
	}
	n := 0
	for _, r := range runs {
		if r.Provider == p && r.Total >= 0 {
			n += r.Total - r.Done
		}
	}
	return n
}

// statusJSON runs status --json and decodes it.
func (w *cliWorld) statusJSON(args ...string) status.View {
	w.t.Helper()
	r := w.run(append([]string{"status", "--json"}, args...)...)
	if r.code != exitOK {
		w.t.Fatalf("status --json = %s", r)
	}
	var v status.View
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		w.t.Fatalf("status --json output is not JSON: %v\n%s", err, r.stdout)
	}
	return v
}

func contains(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(out, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, out)
		}
	}
}

func TestIngestStytchAndZitadelThenStatus(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	st := w.stytchCSV("members.csv", 3)
	z := w.zitadelCSV("users.csv", 2)

	r := w.run("ingest", st, z)
	if r.code != exitOK {
		t.Fatalf("ingest = %s", r)
	}
	contains(t, "ingest stdout", r.stdout, "members.csv: run stytch-", "users.csv: run zitadel-", "reactivator status stytch-", "--watch")
	contains(t, "ingest stderr", r.stderr, "stytch: ok", "zitadel: ok")
	if got := w.rowsWaiting(jobs.Stytch); got != 3 {
		t.Errorf("stytch rows waiting = %d, want 3", got)
	}
	if got := w.rowsWaiting(jobs.Zitadel); got != 2 {
		t.Errorf("zitadel rows waiting = %d, want 2", got)
	}

	v := w.statusJSON()
	if len(v.Runs) != 2 {
		t.Fatalf("status --json runs = %d, want 2:\n%+v", len(v.Runs), v)
	}
	byProvider := map[jobs.Provider]status.Run{}
	for _, r := range v.Runs {
		byProvider[r.Provider] = r
	}
	for p, want := range map[jobs.Provider]int{jobs.Stytch: 3, jobs.Zitadel: 2} {
		got := byProvider[p]
		if got.Total != want || got.Pending != want || got.State != jobs.RunQueued {
			t.Errorf("status --json run of %s = total %d pending %d state %s, want total %d pending %d state queued",
				p, got.Total, got.Pending, got.State, want, want)
		}
		if !strings.Contains(r.stdout, got.ID) {
			t.Errorf("ingest stdout does not name run %s:\n%s", got.ID, r.stdout)
		}
	}

	// The same files again: the same runs, nothing new queued.
	r = w.run("ingest", st, z)
	if r.code != exitOK {
		t.Fatalf("ingest again = %s", r)
	}
	if got := strings.Count(r.stdout, "nothing new to queue"); got != 2 {
		t.Errorf("ingest again says 'nothing new to queue' %d times, want 2:\n%s", got, r.stdout)
	}
	if got := w.rowsWaiting(jobs.Stytch); got != 3 {
		t.Errorf("stytch rows waiting after ingesting again = %d, want 3", got)
	}
	if v := w.statusJSON(); len(v.Runs) != 2 {
		t.Errorf("status --json after ingesting again = %d runs, want 2", len(v.Runs))
	}
}

func TestIngestCountsInvalidAndDuplicateRows(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.stytch.AddMember(wOrgID, stytchMember(1), fakeidp.StytchDeleted, true)
	path := w.file("mixed.csv", "organization_id,member_id\n"+
		wOrgID+","+stytchMember(1)+"\n"+
		wOrgID+",not-a-member\n"+
		wOrgID+","+stytchMember(1)+"\n"+
		wOrgID+",member-live-00000000-0000-4000-8000-000000000009\n")
	r := w.run("ingest", path)
	if r.code != exitOK {
		t.Fatalf("ingest = %s", r)
	}
	run := w.onlyRun()
	want := map[jobs.Outcome]int{jobs.Invalid: 2, jobs.Duplicate: 1}
	for o, n := range want {
		if run.Counts[o] != n {
			t.Errorf("run counts[%s] = %d, want %d (counts %v)", o, run.Counts[o], n, run.Counts)
		}
	}
	contains(t, "ingest stdout", r.stdout, "rows read             4", "queued                1", "invalid               2", "duplicate             1", "reactivator report "+run.ID+" --failed-only")
}

func TestIngestDryRunTouchesNothing(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 2)
	w.setenv("REDIS_URL", "") // no Redis needed
	r := w.run("ingest", "--dry-run", path)
	if r.code != exitOK {
		t.Fatalf("ingest --dry-run = %s", r)
	}
	contains(t, "ingest --dry-run stdout", r.stdout, "dry run, nothing queued", "would be run stytch-", "would queue           2")
	if strings.Contains(r.stdout, "status") {
		t.Errorf("ingest --dry-run suggests watching a run that does not exist:\n%s", r.stdout)
	}
	n, err := w.redis.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("Redis holds %d keys after a dry run, want 0", n)
	}
	if got := w.stytch.Status(wOrgID, stytchMember(1)); got != fakeidp.StytchDeleted {
		t.Errorf("member status after a dry run = %q, want deleted", got)
	}
}

func TestIngestRefusedFile(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	good := w.stytchCSV("members.csv", 2)
	bad := w.file("notes.csv", "name,phone\nada,555-0100\n") // no id, email or login column
	missing := filepath.Join(w.dir, "missing.csv")
	dir := filepath.Join(w.dir, "inbox")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}

	r := w.run("ingest", bad, good, missing, dir)
	if r.code != exitError {
		t.Fatalf("ingest with a refused file = %s\nwant exit %d", r, exitError)
	}
	contains(t, "ingest stderr", r.stderr, "refused "+bad+" line 1:", "refused "+missing+": no such file", "refused "+dir+": is a directory",
		"nothing was queued for it", "3 of 4 files not ingested")
	contains(t, "ingest stdout", r.stdout, "members.csv: run stytch-")
	if got := w.onlyRun(); got.File != "members.csv" {
		t.Errorf("the only run is of file %q, want members.csv", got.File)
	}
	if got := w.rowsWaiting(jobs.Stytch); got != 2 {
		t.Errorf("stytch rows waiting = %d, want 2 (the good file's rows)", got)
	}
}

func TestIngestRefusedCredentialsQueueNothing(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 2)
	w.stytch.SetSecret("secret-test-rotated-elsewhere-0123456789")
	r := w.run("ingest", path)
	if r.code != exitFatal {
		t.Fatalf("ingest with refused credentials = %s\nwant exit %d", r, exitFatal)
	}
	contains(t, "ingest stderr", r.stderr, "stytch: credentials refused", "nothing was queued")
	n, err := w.redis.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("Redis holds %d keys after a refused check, want 0", n)
	}

	// --no-check queues anyway: the workers may hold other credentials.
	if r := w.run("ingest", "--no-check", path); r.code != exitOK {
		t.Fatalf("ingest --no-check = %s", r)
	}
	if got := w.rowsWaiting(jobs.Stytch); got != 2 {
		t.Errorf("stytch rows waiting after --no-check = %d, want 2", got)
	}
}

func TestIngestWithoutLocalCredentials(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.zitadelCSV("users.csv", 1)
	w.setenv("ZITADEL_URL", "")
	w.setenv("ZITADEL_TOKEN", "")
	r := w.run("ingest", path)
	if r.code != exitOK {
		t.Fatalf("ingest = %s", r)
	}
	contains(t, "ingest stderr", r.stderr, "zitadel: no credentials on this machine, not checked: the workers hold them")
	if strings.Contains(r.stderr, "stytch") {
		t.Errorf("ingest of a ZITADEL file checked Stytch:\n%s", r.stderr)
	}
}

func TestIngestRunIDs(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("members.csv", 1)
	if r := w.run("ingest", "--run", "batch-7", path); r.code != exitOK || !strings.Contains(r.stdout, "run batch-7 (stytch)") {
		t.Fatalf("ingest --run batch-7 = %s", r)
	}
	if r := w.run("ingest", "--run", "batch-7", "--new-run", path); r.code != exitOK || !strings.Contains(r.stdout, "run batch-7-") {
		t.Fatalf("ingest --run batch-7 --new-run = %s", r)
	}
	if v := w.statusJSON(); len(v.Runs) != 2 {
		t.Errorf("status --json = %d runs, want 2", len(v.Runs))
	}
}

func TestIngestUsageErrors(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	a, b := w.stytchCSV("a.csv", 1), w.zitadelCSV("b.csv", 1)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"ingest"}, "requires at least 1 arg"},
		{"run with two files", []string{"ingest", "--run", "x", a, b}, "--run names one run"},
		{"bad delimiter", []string{"ingest", "--delimiter", "|", a}, "--delimiter"},
		{"bad provider", []string{"ingest", "--provider", "okta", a}, "--provider"},
		{"dry run and wait", []string{"ingest", "--dry-run", "--wait", a}, "nothing to --wait for"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v = %s\nwant exit %d and %q", tc.args, r, exitUsage, tc.want)
			}
		})
	}
	if v := w.statusJSON(); len(v.Runs) != 0 {
		t.Errorf("status after usage errors = %d runs, want 0", len(v.Runs))
	}
}

func TestIngestDelimiterAndProvider(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.zitadel.AddUser("300000000000000042", wZOrg, fakeidp.ZitadelInactive)
	path := w.file("tabbed.tsv", "id\tnote\n300000000000000042\tback from leave\n")
	r := w.run("ingest", "--provider", "zitadel", "--delimiter", "tab", path)
	if r.code != exitOK {
		t.Fatalf("ingest --provider zitadel --delimiter tab = %s", r)
	}
	if run := w.onlyRun(); run.Provider != jobs.Zitadel || run.Total != 1 || run.Counts[jobs.Invalid] != 0 {
		t.Errorf("run = provider %s total %d counts %v, want zitadel, 1 row, none invalid", run.Provider, run.Total, run.Counts)
	}
}
