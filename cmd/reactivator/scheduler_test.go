package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/internal/fakeidp"
	"reactivator/internal/schedule"
	"reactivator/internal/syncbuf"
	"reactivator/jobs"
)

func TestSchedulerRefusesMalformedConfigAtStart(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	cfg := w.file("schedules.yaml", "schedules:\n  - name: a\n    cron: \"61 * * * *\"\n    inbox: /in\n")
	r := w.run("scheduler", "--config", cfg)
	if r.code != exitError {
		t.Fatalf("scheduler with a bad cron = %s\nwant exit 1", r)
	}
	contains(t, "stderr", r.stderr, "schedules not loaded", cfg+" line 3: schedules[0].cron:")
	if n, _ := w.redis.DBSize(context.Background()).Result(); n != 0 {
		t.Errorf("Redis holds %d keys after a refused start, want 0", n)
	}

	r = w.run("scheduler", "--config", filepath.Join(w.dir, "nope.yaml"))
	if r.code != exitError || !strings.Contains(r.stderr, "nope.yaml") {
		t.Errorf("scheduler with a missing file = %s\nwant exit 1 naming the file", r)
	}
	if r := w.run("scheduler"); r.code != exitUsage {
		t.Errorf("scheduler without --config = %s\nwant exit 2", r)
	}
}

func TestSchedulerCheck(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.setenv("REDIS_URL", "") // --check needs no Redis
	cfg := w.file("schedules.yaml", "reports: /data/reports\nschedules:\n  - name: nightly\n    cron: \"0 3 * * *\"\n    inbox: /data/inbox\n")
	r := w.run("scheduler", "--config", cfg, "--check")
	if r.code != exitOK {
		t.Fatalf("scheduler --check = %s", r)
	}
	contains(t, "stdout", r.stdout, "nightly", "0 3 * * *", "/data/inbox", "*.csv", "(from header)", "03:00:00", "reports: /data/reports", "1 schedules OK")
}

// liveCmd is a command running in the background whose stderr the test can read as it goes.
type liveCmd struct {
	stderr *syncbuf.Buffer
	stop   func() result
}

// start runs a command in the background until stop is called (or the test ends).
func (w *cliWorld) start(args ...string) *liveCmd {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lc := &liveCmd{stderr: &syncbuf.Buffer{}}
	done := make(chan result, 1)
	go func() {
		var stdout bytes.Buffer
		code := run(ctx, append([]string{"--log-format", "text"}, args...), w.getenv, strings.NewReader(""), &stdout, lc.stderr)
		done <- result{code: code, stdout: stdout.String(), stderr: lc.stderr.String()}
	}()
	var once sync.Once
	var res result
	lc.stop = func() result {
		once.Do(func() {
			cancel()
			select {
			case res = <-done:
				w.assertNoSecret(res.stdout, res.stderr)
			case <-time.After(30 * time.Second):
				w.t.Errorf("%v did not stop within 30s of its context's end", args)
			}
		})
		return res
	}
	w.t.Cleanup(func() { lc.stop() })
	return lc
}

// count returns how many log lines of the command have message msg.
func (lc *liveCmd) count(msg string) int { return strings.Count(lc.stderr.String(), `msg="`+msg+`"`) }

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scheduleWorld makes an inbox, a reports directory and a schedules file picking the inbox up
// every second, and returns their paths.
func (w *cliWorld) scheduleWorld() (inbox, reports, config string) {
	w.t.Helper()
	inbox, reports = filepath.Join(w.dir, "inbox"), filepath.Join(w.dir, "reports")
	if err := os.MkdirAll(inbox, 0o750); err != nil {
		w.t.Fatal(err)
	}
	config = w.file("schedules.yaml", fmt.Sprintf(`reports: %s
schedules:
  - name: every-second
    cron: "@every 1s"
    inbox: %s
    settle: 0s
`, reports, inbox))
	return inbox, reports, config
}

// dropInto moves a file into the inbox whole, as an operator's mv does.
func dropInto(t *testing.T, path, inbox string) {
	t.Helper()
	if err := os.Rename(path, filepath.Join(inbox, filepath.Base(path))); err != nil {
		t.Fatal(err)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSchedulerPicksUpInboxWithRacingWorkers(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	inbox, reports, config := w.scheduleWorld()
	workers := []func() result{w.startWorker(), w.startWorker()}
	sched := w.start("scheduler", "--config", config, "--lock-ttl", "2s")

	members := w.stytchCSV("members.csv", 3)
	users := w.zitadelCSV("users.csv", 2)
	dropInto(t, members, inbox)
	dropInto(t, users, inbox)

	waitFor(t, "two reports", func() bool { return len(listDir(t, reports)) == 2 })
	waitFor(t, "the files in done/", func() bool { return len(listDir(t, filepath.Join(inbox, "done"))) == 2 })
	if res := sched.stop(); res.code != exitOK {
		t.Errorf("scheduler after stop = %s\nwant exit 0", res)
	}
	var pickedUp int
	for i, stop := range workers {
		res := stop()
		if res.code != exitOK {
			t.Errorf("worker %d after stop = %s\nwant exit 0", i, res)
		}
		pickedUp += strings.Count(res.stderr, `msg="file picked up"`)
	}
	if pickedUp != 2 {
		t.Errorf("the two workers logged %d pick-ups, want 2 (each file once)", pickedUp)
	}
	if sched.count("pick-up queued") < 1 {
		t.Errorf("scheduler log has no queued pick-up:\n%s", sched.stderr)
	}

	runs, err := w.store.Runs(context.Background())
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs = %d, %v; want 2", len(runs), err)
	}
	var wantReports []string
	for _, run := range runs {
		if run.State != jobs.RunFinished || run.Failures() != 0 || run.Extra["schedule"] != "every-second" {
			t.Errorf("run %s = %+v, want finished without failures, from schedule every-second", run.ID, run)
		}
		name := run.ID + ".report.csv"
		wantReports = append(wantReports, name)
		rep, err := os.ReadFile(filepath.Join(reports, name))
		if err != nil {
			t.Errorf("report of run %s: %v", run.ID, err)
			continue
		}
		if got := strings.Count(string(rep), ",reactivated,"); got != run.Total {
			t.Errorf("report %s has %d reactivated rows, want %d:\n%s", name, got, run.Total, rep)
		}
	}
	slices.Sort(wantReports)
	if got := listDir(t, reports); !slices.Equal(got, wantReports) {
		t.Errorf("reports dir = %v, want %v", got, wantReports)
	}
	if got := listDir(t, filepath.Join(inbox, "done")); !slices.Equal(got, []string{"members.csv", "users.csv"}) {
		t.Errorf("done/ = %v, want [members.csv users.csv]", got)
	}
	if got := append(listDir(t, inbox), listDir(t, filepath.Join(inbox, "processing"))...); len(got) != 0 {
		t.Errorf("inbox and processing/ still hold %v, want nothing", got)
	}
	for i := 1; i <= 3; i++ {
		if got := w.stytch.Calls(wOrgID + "/" + stytchMember(i)); got != 1 {
			t.Errorf("Stytch calls for member %d = %d, want 1", i, got)
		}
	}
	for i := 1; i <= 2; i++ {
		id := fmt.Sprintf("3000000000000%05d", i)
		if got := w.zitadel.Calls(id); got != 1 {
			t.Errorf("ZITADEL calls for user %s = %d, want 1", id, got)
		}
		if got := w.zitadel.State(id); got != fakeidp.ZitadelActive {
			t.Errorf("ZITADEL user %s state = %q, want active", id, got)
		}
	}
}

func TestSchedulerOneActiveStandbyTakesOver(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	_, _, config := w.scheduleWorld()
	ctx := context.Background()

	// An instance that died without releasing its lock: a standby waits for the lock to expire.
	if ok, err := w.store.AcquireLock(ctx, schedule.Lock, "dead-instance", 1500*time.Millisecond); err != nil || !ok {
		t.Fatalf("AcquireLock(dead-instance) = %v, %v", ok, err)
	}
	a := w.start("scheduler", "--config", config, "--lock-ttl", "1s")
	waitFor(t, "A on standby behind the dead instance", func() bool {
		return strings.Contains(a.stderr.String(), "active=dead-instance")
	})
	waitFor(t, "A to take over from the dead instance", func() bool { return a.count("scheduler active: this instance queues the pick-ups") == 1 })

	b := w.start("scheduler", "--config", config, "--lock-ttl", "1s")
	waitFor(t, "B on standby", func() bool {
		return b.count("scheduler standby: another instance is active; this one takes over if it stops") == 1
	})
	waitFor(t, "A to queue three pick-ups", func() bool { return a.count("pick-up queued") >= 3 })
	if n := b.count("pick-up queued"); n != 0 {
		t.Fatalf("standby B queued %d pick-ups while A was active, want 0:\n%s", n, b.stderr)
	}

	resA := a.stop()
	if resA.code != exitOK || !strings.Contains(resA.stderr, "scheduler lock released") {
		t.Fatalf("A after stop = %s\nwant exit 0 with the lock released", resA)
	}
	queuedByA := strings.Count(resA.stderr, `msg="pick-up queued"`)
	waitFor(t, "B to take over", func() bool { return b.count("scheduler active: this instance queues the pick-ups") == 1 })
	waitFor(t, "B to queue a pick-up", func() bool { return b.count("pick-up queued") >= 1 })
	resB := b.stop()
	queuedByB := strings.Count(resB.stderr, `msg="pick-up queued"`)
	for name, res := range map[string]result{"A": resA, "B": resB} {
		if strings.Contains(res.stderr, "level=ERROR") {
			t.Errorf("scheduler %s logged an error in a clean hand-over:\n%s", name, res.stderr)
		}
	}

	// No worker ran: every pick-up queued is still in the control queue, and each was queued by
	// the one active instance of its time.
	insp := asynq.NewInspectorFromRedisClient(w.redis)
	pending, err := insp.ListPendingTasks(jobs.QueueControl, asynq.PageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	pickups := 0
	for _, ti := range pending {
		if ti.Type == jobs.TypeInboxPickup {
			pickups++
		}
	}
	if pickups != queuedByA+queuedByB {
		t.Errorf("pending inbox:pickup tasks = %d, want %d (A queued %d, B %d)", pickups, queuedByA+queuedByB, queuedByA, queuedByB)
	}
	if h, _ := w.store.LockHolder(ctx, schedule.Lock); h != "" {
		t.Errorf("scheduler lock after both stopped is held by %q, want free", h)
	}
}

// TestCrontabOverlappingIngestsAreOneRun is the plain-crontab path: two `ingest --wait` of the
// same file overlap (a slow night); the run id makes them one run, and both exit with its code.
func TestCrontabOverlappingIngestsAreOneRun(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	path := w.stytchCSV("nightly.csv", 20, 7) // member 7 is unknown: exit 3
	stop := w.startWorker()
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.run("ingest", "--wait", path)
		}()
	}
	wg.Wait()
	stop()
	for i, r := range results {
		if r.code != exitSomeFailed {
			t.Errorf("overlapping ingest --wait #%d = %s\nwant exit 3 (one row not found)", i, r)
		}
	}
	run := w.onlyRun()
	if run.Total != 20 || run.Counts[jobs.Reactivated] != 19 || run.Counts[jobs.NotFound] != 1 {
		t.Errorf("the one run = %+v, want 20 rows: 19 reactivated, 1 not found", run)
	}
	for i := 1; i <= 20; i++ {
		want := 1
		if got := w.stytch.Calls(wOrgID + "/" + stytchMember(i)); got != want {
			t.Errorf("Stytch calls for member %d = %d, want %d", i, got, want)
		}
	}
}
