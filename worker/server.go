// Package worker serves reactivator's queues: a Server is responsible for the asynq server,
// its handlers, the retry policy, the per-provider rate budgets and the pause of a provider's
// queue on a fatal answer.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/asynqlog"
	"reactivator/internal/clock"
	"reactivator/jobs"
)

// Config configures a Server. Zero values take the defaults named on each field.
type Config struct {
	// Redis is the process's one Redis client (redisconn): asynq's server, client and inspector and
	// the run store all use it. The Server never closes it.
	Redis redis.UniversalClient
	// Callers are the providers this worker has credentials for; only their queues are served.
	Callers map[jobs.Provider]Caller
	// Limits are the providers' call budgets; a provider without one is unlimited.
	Limits map[jobs.Provider]Limit
	// Concurrency is how many tasks run at once; 0 means 100.
	Concurrency int
	// MaxAttempts is how many transient failures a row may have before it ends failed; 0 means 12
	// (with the default backoff, about an hour and a half of outage).
	MaxAttempts int
	// MaxRowAge ends a row as failed when it entered its provider's window longer ago than this;
	// 0 means 24h.
	MaxRowAge time.Duration
	// Window sizes the windowed queue (window.go).
	Window Window
	// Backoff is the wait between attempts.
	Backoff Backoff
	// ShutdownTimeout is how long in-flight calls may finish on shutdown before their tasks go
	// back to the queue; 0 means 40s.
	ShutdownTimeout time.Duration
	// ServeControl makes the worker also serve run:finished and inbox:pickup tasks; default true
	// (set NoControl to turn it off).
	NoControl bool
	// OnRunFinished is called (from a run:finished task) when a run's last row got its outcome.
	OnRunFinished func(ctx context.Context, run jobs.Run) error
	// Handlers are extra task handlers by task type (inbox:pickup, say).
	Handlers map[string]asynq.Handler
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Metrics records calls and outcomes; nil records nothing.
	Metrics *Metrics
	// Clock tells the time of row ages, cool-downs and cached reads; nil means clock.Real.
	Clock clock.Clock
}

func (c *Config) setDefaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 100
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.MaxRowAge <= 0 {
		c.MaxRowAge = 24 * time.Hour
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 40 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Clock = clock.Or(c.Clock)
}

// Validate says what is missing.
func (c Config) Validate() error {
	switch {
	case c.Redis == nil:
		return errors.New("worker config: Redis is required")
	case len(c.Callers) == 0 && c.NoControl:
		return errors.New("worker config: no provider credentials and no control queue: nothing to serve")
	}
	return nil
}

// Server serves the queues of the providers it has callers for.
type Server struct {
	cfg       Config
	store     *jobs.Store
	log       *slog.Logger
	asynq     *asynq.Server
	client    *asynq.Client
	inspector *asynq.Inspector
	pacers    map[jobs.Provider]*pacer
	windows   map[jobs.Provider]*window
	warm      *warmStacks
	clock     clock.Clock

	// stopped ends when the server is asked to stop (Run's ctx is done). Every wait of a task
	// (budget, cool-down, read slot) ends with it, and no request is sent after it: asynq only
	// cancels a handler's ctx when ShutdownTimeout runs out, far too late for the stop rule.
	stopped context.Context
	stop    context.CancelFunc

	mu     sync.Mutex
	paused map[jobs.Provider]string
	rates  map[string]runRate // run id -> its own rate limit, as last read
}

// runRate is a run's own rate limit (jobs.Run.RateLimit) and action, and when they were read.
type runRate struct {
	perSecond float64
	action    jobs.Action
	at        time.Time
}

// runAction returns what a run's calls do (jobs.Run.Action), read from the store once per run: it
// is set when the run is created and never changes. A run that cannot be read is an error: no
// call is made without knowing which.
func (s *Server) runAction(ctx context.Context, runID string) (jobs.Action, error) {
	s.mu.Lock()
	r, ok := s.rates[runID]
	s.mu.Unlock()
	if ok && r.action != "" {
		return r.action, nil
	}
	run, err := s.store.Run(ctx, runID)
	if err != nil {
		return "", err
	}
	s.remember(run)
	return run.Action, nil
}

// remember keeps what a run says about its calls: its rate limit and action.
func (s *Server) remember(run jobs.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rates) > 10000 {
		clear(s.rates)
	}
	s.rates[run.ID] = runRate{perSecond: run.RateLimit, action: run.Action, at: s.clock.Now()}
}

// runRate returns a run's own rate limit, 0 for none, reading the store at most every 30s per
// run: it is set when the run is created and does not change.
func (s *Server) runRate(ctx context.Context, runID string) float64 {
	s.mu.Lock()
	r, ok := s.rates[runID]
	s.mu.Unlock()
	if ok && s.clock.Now().Sub(r.at) < 30*time.Second {
		return r.perSecond
	}
	run, err := s.store.Run(ctx, runID)
	if err != nil {
		return r.perSecond
	}
	s.remember(run)
	return run.RateLimit
}

// New returns a Server; Run starts it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	store := jobs.NewStore(cfg.Redis)
	s := &Server{
		cfg: cfg, store: store, log: cfg.Logger, clock: cfg.Clock,
		client: asynq.NewClientFromRedisClient(cfg.Redis), inspector: asynq.NewInspectorFromRedisClient(cfg.Redis),
		pacers: map[jobs.Provider]*pacer{}, windows: map[jobs.Provider]*window{}, paused: map[jobs.Provider]string{}, rates: map[string]runRate{},
		warm: newWarmStacks(cfg.Logger),
	}
	s.stopped, s.stop = context.WithCancel(context.Background())
	queues := map[string]int{}
	for p := range cfg.Callers {
		queues[p.Queue()] = 10
		s.pacers[p] = newPacer(p, store, cfg.Limits[p], cfg.Metrics, cfg.Logger, cfg.Clock)
		s.windows[p] = newWindow(p, s)
	}
	if !cfg.NoControl {
		queues[jobs.QueueControl] = 1
	}
	s.asynq = asynq.NewServerFromRedisClient(cfg.Redis, asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          queues,
		RetryDelayFunc:  s.retryDelay,
		IsFailure:       isFailure,
		ShutdownTimeout: cfg.ShutdownTimeout,
		// The window keeps each queue short, often empty between two top ups: asynq's default
		// check every second would leave a topped-up window waiting that long.
		TaskCheckInterval: windowTaskCheck,
		Logger:            asynqlog.New(cfg.Logger),
		LogLevel:          asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			if errors.Is(err, asynq.SkipRetry) || !isFailure(err) {
				return
			}
			cfg.Logger.Debug("task failed, will retry", "type", t.Type(), "err", err)
		}),
	})
	return s, nil
}

// Mux returns the handlers the server runs.
func (s *Server) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(s.windowMiddleware)
	for p, c := range s.cfg.Callers {
		mux.Handle(p.TaskType(), s.warm.wrap(&reactivateHandler{provider: p, caller: c, srv: s, pacer: s.pacers[p]}))
	}
	if !s.cfg.NoControl {
		mux.HandleFunc(jobs.TypeRunFinished, s.handleRunFinished)
		for typ, h := range s.cfg.Handlers {
			mux.Handle(typ, h)
		}
	}
	return mux
}

// Run serves until ctx is done, then shuts down: in-flight calls get ShutdownTimeout to finish;
// tasks still running then go back to the queue.
func (s *Server) Run(ctx context.Context) error {
	// A run an earlier version left in the older store layout would have its finished rows
	// called again: refuse to serve until it is finished.
	if err := s.store.CheckLayout(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := s.refreshPaused(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	// stopped is a child of ctx: cancelling ctx ends it in the same instant, before any goroutine
	// of ours is scheduled, so a task checking it right before its call sees the stop at once.
	s.stopped, s.stop = context.WithCancel(ctx)
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.watchPauses(bg) }()
	for p, pc := range s.pacers {
		s.log.Info("serving", "provider", p, "queue", p.Queue(), "limit", pc.limit.String())
		if pc.limit.Auto {
			wg.Add(1)
			go func() { defer wg.Done(); pc.autoLoop(bg) }()
		}
	}
	if err := s.asynq.Start(s.Mux()); err != nil {
		stop()
		wg.Wait()
		return fmt.Errorf("start worker: %w", err)
	}
	for _, w := range s.windows {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	<-ctx.Done()
	// The stop rule: from here no task sends a request; waiting tasks go back to the queue
	// uncalled, and Shutdown waits only for the requests already on the wire.
	s.stop()
	s.log.Info("shutting down: letting in-flight calls finish", "timeout", s.cfg.ShutdownTimeout)
	s.asynq.Shutdown()
	stop()
	wg.Wait()
	for p, pc := range s.pacers {
		if pc.limit.Auto {
			r, _ := pc.rate()
			s.log.Info("--rate auto settled", "provider", p, "rate_per_second", r)
		}
	}
	return nil
}

func (s *Server) countOutcome(p jobs.Provider, o jobs.Outcome) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Outcomes.WithLabelValues(string(p), string(o)).Inc()
	}
}

// runFinished queues the run's run:finished task (once per run, by its task id).
func (s *Server) runFinished(ctx context.Context, runID string) {
	_, err := s.client.EnqueueContext(context.WithoutCancel(ctx), jobs.NewRunFinishedTask(runID))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		s.log.Error("could not queue run:finished", "run", runID, "err", err)
	}
}

func (s *Server) handleRunFinished(ctx context.Context, t *asynq.Task) error {
	p, err := jobs.ParseRunFinishedPayload(t)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	run, err := s.store.Run(ctx, p.RunID)
	if err != nil {
		return err
	}
	s.log.Info("run finished", "run", run.ID, "rows", run.Total, "failures", run.Failures())
	if s.cfg.OnRunFinished != nil {
		return s.cfg.OnRunFinished(ctx, run)
	}
	return nil
}

// pause stops a provider's queue after a fatal answer: no further row is called or burned.
func (s *Server) pause(ctx context.Context, p jobs.Provider, runID string, line int, res jobs.Result) {
	reason := res.Message
	if res.HTTPStatus != 0 {
		reason = fmt.Sprintf("HTTP %d %s: %s", res.HTTPStatus, res.ErrorType, res.Message)
	}
	s.mu.Lock()
	_, already := s.paused[p]
	s.paused[p] = reason
	s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	// The store's pause is the truth every worker of the fleet checks right before each call;
	// record it first. asynq's queue pause only stops the queue being fetched.
	pz := jobs.Pause{Provider: p, Reason: reason, RunID: runID, Line: line, Grant: res.Grant}
	if err := s.store.SetPaused(ctx, pz); err != nil {
		s.log.Error("could not record pause", "provider", p, "err", err)
	}
	if err := s.inspector.PauseQueue(p.Queue()); err != nil && !already {
		s.log.Debug("queue pause", "queue", p.Queue(), "err", err)
	}
	note := fmt.Sprintf("%s paused: %s; %s, then run `reactivator resume %s`", p, reason, pz.Fix(), p)
	if err := s.store.SetNote(ctx, runID, note); err != nil {
		s.log.Error("could not record pause on run", "run", runID, "err", err)
	}
	if !already {
		s.log.Error("provider answered with a fatal error: queue paused, no further rows are called",
			"provider", p, "run", runID, "line", line, "status", res.HTTPStatus, "error_type", res.ErrorType, "msg", res.Message,
			"next", pauseNext(pz))
	}
}

// pauseNext is what the log of a fatal answer tells the operator to do: grant the role a pause
// for want of one names (the answer's Grant), else fix the credentials or the URL.
func pauseNext(pz jobs.Pause) string {
	fix := "fix the credentials or URL"
	if pz.Grant != "" {
		fix = pz.Fix()
	}
	return fix + ", then: reactivator resume " + string(pz.Provider)
}

func (s *Server) isPaused(p jobs.Provider) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.paused[p]
	return ok
}

func (s *Server) pauseReason(p jobs.Provider) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused[p]
}

// watchPauses keeps the local view of paused providers in step with Redis, so a pause by
// another worker, or a resume, is seen within half a second.
func (s *Server) watchPauses(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.refreshPaused(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("could not read paused providers", "err", err)
			}
		}
	}
}

// refreshPaused reads the store's pauses (the one source of truth) into the local view, and
// puts asynq's queue pause back when another tool (the asynq web UI, say) lifted it while the
// store still says paused: only `reactivator resume` ends a pause.
func (s *Server) refreshPaused(ctx context.Context) error {
	m, err := s.store.Paused(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.paused = make(map[jobs.Provider]string, len(m))
	for p, v := range m {
		s.paused[p] = v.Reason
	}
	s.mu.Unlock()
	for p, pz := range m {
		if _, served := s.pacers[p]; !served {
			continue
		}
		// PauseQueue succeeds only when the queue was not paused.
		if err := s.inspector.PauseQueue(p.Queue()); err == nil {
			s.log.Warn("the queue was unpaused outside reactivator while the provider is paused: paused it again; its tasks go back uncalled",
				"provider", p, "queue", p.Queue(), "next", pz.Fix()+", then: reactivator resume "+string(p))
		}
	}
	return nil
}

// halt says why a call must not be sent now, nil when it may: the server is stopping, or the
// provider is paused. fresh also asks the store, the fleet's one source of truth for pauses (one
// round trip): it is the check right before a request leaves, and it looks at the stop again
// once the round trip is back, so a stop that came before the read left is never missed.
func (s *Server) halt(ctx context.Context, p jobs.Provider, fresh bool) error {
	if err := s.stopping(ctx); err != nil {
		return err
	}
	if s.isPaused(p) {
		return s.pausedError(p, s.pauseReason(p))
	}
	if !fresh {
		return nil
	}
	pz, paused, err := s.store.PauseOf(ctx, p)
	if err != nil {
		return notAnAttempt(err)
	}
	if paused {
		s.notePaused(p, pz.Reason)
		return s.pausedError(p, pz.Reason)
	}
	return s.stopping(ctx)
}

// stopping returns the error of a task whose server is stopping or whose wait ended.
func (s *Server) stopping(ctx context.Context) error {
	if s.stopped.Err() != nil || ctx.Err() != nil {
		return &RetryError{Reason: "stopping: the row goes back to the queue uncalled", RetryAfter: time.Second}
	}
	return nil
}

// notePaused puts a pause read from the store into the local view at once, ahead of watchPauses.
func (s *Server) notePaused(p jobs.Provider, reason string) {
	s.mu.Lock()
	s.paused[p] = reason
	s.mu.Unlock()
}

func (s *Server) pausedError(p jobs.Provider, reason string) error {
	return &RetryError{Reason: fmt.Sprintf("%s queue is paused: %s", p, reason), RetryAfter: 30 * time.Second}
}

// waitCtx returns ctx that also ends when the server stops: for waits, never for a request on
// the wire.
func (s *Server) waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	w, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.stopped, cancel)
	return w, func() { stop(); cancel() }
}

// Resume unpauses a provider's queue after the cause of a fatal answer was fixed, and clears
// the runs' notes. It is what `reactivator resume PROVIDER` does.
func Resume(ctx context.Context, rdb redis.UniversalClient, p jobs.Provider) error {
	insp, store := asynq.NewInspectorFromRedisClient(rdb), jobs.NewStore(rdb)
	pausedInfo, err := store.Paused(ctx)
	if err != nil {
		return err
	}
	queues, err := insp.Queues()
	if err != nil {
		return fmt.Errorf("list queues: %w", err)
	}
	// The store's pause is the truth: clear it first, or a worker would see the queue unpaused
	// while the store still says paused, and pause it again.
	if err := store.ClearPaused(ctx, p); err != nil {
		return err
	}
	if slices.Contains(queues, p.Queue()) {
		qi, err := insp.GetQueueInfo(p.Queue())
		if err != nil {
			return fmt.Errorf("read queue %s: %w", p.Queue(), err)
		}
		if qi.Paused {
			if err := insp.UnpauseQueue(p.Queue()); err != nil {
				return fmt.Errorf("unpause %s: %w", p.Queue(), err)
			}
		}
	}
	if slices.Contains(queues, p.Queue()) {
		// Rows that met the pause wait to be retried; bring them back now.
		if _, err := insp.RunAllRetryTasks(p.Queue()); err != nil {
			return fmt.Errorf("run %s retries: %w", p.Queue(), err)
		}
	}
	if info, ok := pausedInfo[p]; ok && info.RunID != "" {
		runs, err := store.OpenRuns(ctx)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if r.Provider == p && r.Note != "" {
				_ = store.SetNote(ctx, r.ID, "")
			}
		}
	}
	return nil
}
