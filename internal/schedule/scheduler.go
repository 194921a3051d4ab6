// This file is the Scheduler: asynq's Scheduler queueing a Config's pick-ups while this instance
// leads, and the worker's half of schedules.

package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // CRON_TZ= zones work in a scratch or distroless image too

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"

	"reactivator/ingest"
	"reactivator/internal/asynqlog"
	"reactivator/jobs"
)

// Lock names the scheduler's leader lock in Redis.
const Lock = "scheduler"

// Scheduler queues the inbox pick-ups of a Config on their cron specs, with asynq's Scheduler,
// while its Elector makes this instance the leader.
type Scheduler struct {
	// Redis is the connection asynq's Scheduler opens for itself: a scheduler of its own
	// connection shuts down without logging errors of a shared one. Required.
	Redis asynq.RedisConnOpt
	// Config are the schedules. Required.
	Config Config
	// Elector decides when this instance leads; its Name is Lock. Required.
	Elector *Elector
	// Log gets a line per tick; nil logs nothing.
	Log *slog.Logger
}

// Run queues pick-ups while this instance leads, and stands by otherwise, until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	s.Elector.Run(ctx, s.lead)
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// lead runs asynq's Scheduler until ctx ends; its Shutdown waits for a tick in progress, so
// nothing is queued once lead has returned.
func (s *Scheduler) lead(ctx context.Context) {
	log := s.log()
	log.Info("scheduler active: this instance queues the pick-ups", "schedules", len(s.Config.Schedules))
	sched := asynq.NewScheduler(s.Redis, &asynq.SchedulerOpts{
		Logger: asynqlog.New(log), LogLevel: asynq.WarnLevel, PostEnqueueFunc: s.enqueued,
	})
	for _, sc := range s.Config.Schedules {
		task, err := jobs.NewInboxPickupTask(sc.Pickup, asynq.Unique(sc.UniqueFor()))
		if err == nil {
			_, err = sched.Register(sc.Cron, task)
		}
		if err != nil { // the file was checked at start: this is a bug
			log.Error("cannot register schedule", "schedule", sc.Pickup.Schedule, "err", err)
		}
	}
	if err := sched.Start(); err != nil {
		log.Error("cannot start asynq's scheduler", "err", err)
		return
	}
	<-ctx.Done()
	sched.Shutdown()
}

// enqueued logs each tick's outcome (asynq's PostEnqueueFunc).
func (s *Scheduler) enqueued(info *asynq.TaskInfo, err error) {
	log := s.log()
	switch {
	case err == nil:
		name := ""
		if p, perr := jobs.ParseInboxPickupPayload(asynq.NewTask(info.Type, info.Payload)); perr == nil {
			name = p.Schedule
		}
		log.Info("pick-up queued", "schedule", name, "task", info.ID)
	case errors.Is(err, asynq.ErrDuplicateTask):
		log.Debug("pick-up skipped: the previous one is still queued", "err", err)
	default:
		log.Error("cannot queue a pick-up", "err", err)
	}
}

// WriteTable writes each schedule with its next tick after now (scheduler --check).
func (c Config) WriteTable(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tCRON\tINBOX\tPATTERN\tPROVIDER\tNEXT (UTC)")
	for _, s := range c.Schedules {
		next := ""
		if sched, err := cron.ParseStandard(s.Cron); err == nil {
			next = sched.Next(now.UTC()).UTC().Format(time.DateTime)
		}
		p := s.Pickup
		provider := string(p.Provider)
		if provider == "" {
			provider = "(from header)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Schedule, s.Cron, p.Inbox, p.FilePattern(), provider, next)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	reports := c.Reports
	if reports == "" {
		reports = "(none: reports are not written to files)"
	}
	_, err := fmt.Fprintf(w, "reports: %s\n%d schedules OK\n", reports, len(c.Schedules))
	return err
}

// WorkerHandlers are a worker's half of schedules: the inbox:pickup handler, which ingests the
// files of an inbox, and the OnRunFinished that writes a picked-up run's report file.
func WorkerHandlers(store *jobs.Store, client redis.UniversalClient, stytchEnv string, log *slog.Logger) (map[string]asynq.Handler, func(context.Context, jobs.Run) error, error) {
	cfg := ingest.Config{Store: store, Enqueuer: asynq.NewClientFromRedisClient(client), StytchEnv: stytchEnv}
	if _, err := ingest.New(cfg); err != nil {
		return nil, nil, err
	}
	handlers := map[string]asynq.Handler{jobs.TypeInboxPickup: &PickupHandler{Ingest: cfg, Logger: log}}
	return handlers, ReportOnFinish(store, log), nil
}
