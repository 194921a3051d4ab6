// This file is the scheduler command: it queues the inbox pick-ups of a schedules file on their
// cron specs with asynq's Scheduler, while it holds the scheduler lock in Redis; other instances
// stand by and take over when the active one stops or dies. It also builds the worker's half of
// schedules: the inbox:pickup handler and the report written when a picked-up run finishes.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // CRON_TZ= zones work in a scratch or distroless image too

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"reactivator/ingest"
	"reactivator/jobs"
)

// schedulerLock names the leader lock of the scheduler in Redis (jobs.Store.AcquireLock).
const schedulerLock = "scheduler"

// schedulerFlags are the scheduler command's flags.
type schedulerFlags struct {
	config  string
	check   bool
	lockTTL time.Duration
}

func (a *app) schedulerCmd() *cobra.Command {
	var f schedulerFlags
	cmd := &cobra.Command{
		Use:   "scheduler --config schedules.yaml",
		Short: "Pick up the files dropped into inboxes on cron schedules (one instance active at a time)",
		Long: `scheduler reads a schedules file and, on each schedule's cron spec, queues a pick-up of its inbox
on the shared Redis (REDIS_URL). A worker (` + "`reactivator worker`" + `) then claims each new file of the
inbox, ingests it as a run, moves it to <inbox>/done/ (or to <inbox>/failed/ with the reason in
<file>.error.txt), and writes the run's report to <reports>/<run id>.report.csv when it finishes.
Workers read the inboxes and write the reports, so they need those directories mounted.

  reports: /data/reports            # optional: where finished runs' reports go
  schedules:
    - name: nightly-zitadel
      cron: "0 3 * * *"             # min hour day month weekday (UTC; "CRON_TZ=Europe/Berlin 0 3 * * *"),
                                    # or "@every 30s", "@hourly", "@daily"
      inbox: /data/inbox/zitadel    # absolute; only files directly in it are picked up
      pattern: "*.csv"              # optional, default *.csv; hidden files (.x.csv) are skipped
      provider: zitadel             # optional; else read from each file's header
      rate: 40                      # optional: the runs' own calls per second, under the
                                    # provider's --rate (else only the provider's limit)
      settle: 5s                    # optional, default 5s: files modified more recently are
                                    # left for the next tick (still being copied in)

A file is ingested once however many workers there are; the same bytes dropped again are the same
run (its id comes from the content), so nothing is queued twice.

Run as many schedulers as you like for availability: one holds a lock in Redis and queues the
pick-ups, the others stand by and take over within --lock-ttl when it stops or dies. The log says
which instance is active. A malformed file is refused at start with the line and field at fault;
--check only checks it and prints the next tick of each schedule.`,
		Example: `  # check the file, then run it beside one or more workers
  reactivator scheduler --config /etc/reactivator/schedules.yaml --check
  export REDIS_URL=redis://redis:6379/0
  reactivator scheduler --config /etc/reactivator/schedules.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.scheduler(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "the schedules file (YAML; see above)")
	fs.BoolVar(&f.check, "check", false, "check the schedules file, print each schedule's next tick, and exit")
	fs.DurationVar(&f.lockTTL, "lock-ttl", 15*time.Second, "how long the active scheduler's lock outlives it: a standby takes over within this")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func (a *app) scheduler(ctx context.Context, f schedulerFlags) error {
	if f.lockTTL < time.Second {
		return usageError("--lock-ttl %s: want 1s or more", f.lockTTL)
	}
	cfg, err := loadSchedules(f.config)
	if err != nil {
		return fmt.Errorf("schedules not loaded, fix the file and start again:\n%w", err)
	}
	if f.check {
		return a.printSchedules(cfg)
	}
	rc, err := a.connectRedis(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	token, err := instanceToken()
	if err != nil {
		return err
	}
	l := &schedulerLeader{rc: rc, cfg: cfg, token: token, ttl: f.lockTTL, log: a.log.With("instance", token)}
	l.log.Info("scheduler starting", "config", f.config, "schedules", len(cfg.Schedules), "reports", cfg.Reports,
		"redis", redactURL(rc.url), "lock_ttl", f.lockTTL)
	if cfg.Reports == "" {
		l.log.Warn("the schedules file names no reports directory: runs' reports are not written to files")
	}
	l.run(ctx)
	l.log.Info("scheduler stopped")
	return nil
}

// printSchedules prints each schedule with its next tick (--check).
func (a *app) printSchedules(cfg schedulesConfig) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tCRON\tINBOX\tPATTERN\tPROVIDER\tNEXT (UTC)")
	now := time.Now()
	for _, s := range cfg.Schedules {
		next := ""
		if sched, err := cron.ParseStandard(s.Cron); err == nil {
			next = sched.Next(now.UTC()).UTC().Format(time.DateTime)
		}
		pattern, provider := s.Pattern, string(s.Provider)
		if pattern == "" {
			pattern = "*.csv"
		}
		if provider == "" {
			provider = "(from header)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Cron, s.Inbox, pattern, provider, next)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	reports := cfg.Reports
	if reports == "" {
		reports = "(none: reports are not written to files)"
	}
	fmt.Fprintf(a.stdout, "reports: %s\n%d schedules OK\n", reports, len(cfg.Schedules))
	return nil
}

// instanceToken names this scheduler instance in the lock and the logs: host, pid and a random part.
func instanceToken() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("scheduler instance id: %w", err)
	}
	return fmt.Sprintf("%s:%d:%s", strings.ReplaceAll(host, " ", "-"), os.Getpid(), hex.EncodeToString(b)), nil
}

// schedulerLeader runs asynq's Scheduler while it holds the scheduler lock.
type schedulerLeader struct {
	rc    *redisConn
	cfg   schedulesConfig
	token string
	ttl   time.Duration
	log   *slog.Logger
}

// run stands by until it takes the lock, leads until it loses it, and so on until ctx ends.
func (l *schedulerLeader) run(ctx context.Context) {
	store := l.rc.store
	poll := l.ttl / 3
	lastHolder := "-"
	for ctx.Err() == nil {
		ok, err := store.AcquireLock(ctx, schedulerLock, l.token, l.ttl)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			l.log.Warn("cannot take the scheduler lock; trying again", "err", err)
		case ok:
			lastHolder = "-"
			l.lead(ctx)
			continue
		default:
			holder, _ := store.LockHolder(ctx, schedulerLock)
			if holder != lastHolder {
				l.log.Info("scheduler standby: another instance is active; this one takes over if it stops",
					"active", holder)
				lastHolder = holder
			}
		}
		sleepCtx(ctx, poll)
	}
}

// lead queues the pick-ups with asynq's Scheduler and renews the lock every ttl/3; it returns
// when ctx ends (releasing the lock, so a standby takes over at once) or the lock is lost.
func (l *schedulerLeader) lead(ctx context.Context) {
	l.log.Info("scheduler active: this instance queues the pick-ups", "schedules", len(l.cfg.Schedules))
	sched := asynq.NewScheduler(l.rc.opt, &asynq.SchedulerOpts{
		Logger: asynqLogger{l.log}, LogLevel: asynq.WarnLevel, PostEnqueueFunc: l.enqueued,
	})
	for _, s := range l.cfg.Schedules {
		task, err := jobs.NewInboxPickupTaskFor(s.payload(l.cfg.Reports), asynq.Unique(s.uniqueFor()))
		if err == nil {
			_, err = sched.Register(s.Cron, task)
		}
		if err != nil { // the file was checked at start: this is a bug
			l.log.Error("cannot register schedule", "schedule", s.Name, "err", err)
		}
	}
	if err := sched.Start(); err != nil {
		l.log.Error("cannot start asynq's scheduler", "err", err)
		return
	}
	release := func() {
		sched.Shutdown() // waits for a tick in progress: nothing is queued after this
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := l.rc.store.ReleaseLock(rctx, schedulerLock, l.token); err != nil {
			l.log.Warn("cannot release the scheduler lock: a standby takes over when it expires", "err", err, "ttl", l.ttl)
		}
	}
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	lastRenew := time.Now()
	for {
		select {
		case <-ctx.Done():
			release()
			l.log.Info("scheduler lock released: a standby takes over")
			return
		case <-t.C:
		}
		err := l.rc.store.RenewLock(ctx, schedulerLock, l.token, l.ttl)
		switch {
		case err == nil:
			lastRenew = time.Now()
		case errors.Is(err, jobs.ErrLockLost):
			sched.Shutdown()
			l.log.Error("scheduler lock lost (another instance took over): standing by")
			return
		case ctx.Err() != nil:
		case time.Since(lastRenew) > l.ttl*2/3:
			// The lock may expire before we can renew it: stop before a standby starts.
			release()
			l.log.Error("cannot renew the scheduler lock: stopped queueing pick-ups, standing by", "err", err)
			return
		default:
			l.log.Warn("cannot renew the scheduler lock; trying again", "err", err)
		}
	}
}

// enqueued logs each tick's outcome (asynq's PostEnqueueFunc).
func (l *schedulerLeader) enqueued(info *asynq.TaskInfo, err error) {
	switch {
	case err == nil:
		name := ""
		if p, perr := jobs.ParseInboxPickupPayload(asynq.NewTask(info.Type, info.Payload)); perr == nil {
			name = p.Schedule
		}
		l.log.Info("pick-up queued", "schedule", name, "task", info.ID)
	case errors.Is(err, asynq.ErrDuplicateTask):
		l.log.Debug("pick-up skipped: the previous one is still queued", "err", err)
	default:
		l.log.Error("cannot queue a pick-up", "err", err)
	}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// asynqLogger lets asynq's Scheduler log through slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }

// scheduleHandlers are a worker's half of schedules: the inbox:pickup handler, which ingests the
// files of an inbox, and the OnRunFinished that writes a picked-up run's report file.
func (a *app) scheduleHandlers(rc *redisConn, stytchEnv string) (map[string]asynq.Handler, func(context.Context, jobs.Run) error, error) {
	in, err := ingest.New(ingest.Config{Store: rc.store, Enqueuer: asynq.NewClientFromRedisClient(rc.client), StytchEnv: stytchEnv})
	if err != nil {
		return nil, nil, err
	}
	handlers := map[string]asynq.Handler{jobs.TypeInboxPickup: &ingest.PickupHandler{Ingester: in, Logger: a.log}}
	return handlers, ingest.ReportOnFinish(rc.store, a.log), nil
}
