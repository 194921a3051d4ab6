// A window is responsible for keeping one provider's asynq queue topped up with the next rows of
// its runs: rows wait compactly in the run store, and only a window of them, sized from the rate,
// is queued as asynq tasks at any time, whichever worker of the fleet does the topping up.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"reactivator/internal/clock"
	"reactivator/jobs"
)

// Window sizes and paces the windowed queue. Zero values take the defaults named on each field.
type Window struct {
	// Size is the most rows of a provider queued as asynq tasks at once, across the fleet (a top
	// up by two workers at the same moment may pass it by one claim). 0 sizes it from the rate:
	// two minutes of calls at the provider's limit, at least 300, but never more than half
	// MaxRowAge's worth of calls, so that no row ages out waiting behind the window; 2000 when
	// the provider is unlimited.
	Size int
	// Tick is how often a worker tops up, and queues the rows of claims whose worker died, when
	// no row finished meanwhile; 0 means 1s.
	Tick time.Duration
	// ClaimLease is how long a claim may stay unacknowledged (claimed, tasks not yet queued)
	// before another worker queues its rows; 0 means 30s.
	ClaimLease time.Duration
}

// Window defaults.
const (
	windowMinutes    = 2 * time.Minute
	windowMin        = 300
	windowUnlimited  = 2000
	windowTick       = time.Second
	windowClaimLease = 30 * time.Second
	windowMaxClaim   = 500 // rows per claim: one script call holds Redis briefly
	windowMaxRuns    = 100 // runs looked at per top up, oldest first
	// windowSettle is the wait after a row finishes, for asynq to drop its task; rows finishing
	// meanwhile share the top up, so an unlimited run reads the backlog about 20 times a second
	// rather than once every few rows (with 5 ms it was 0.3 round trips a row).
	windowSettle      = 50 * time.Millisecond
	windowTopUpBudget = 30 * time.Second
	windowTaskCheck   = 50 * time.Millisecond // asynq's look at an empty queue
)

// windowSize returns the window of a provider limited to rate calls per second (0: unlimited)
// whose rows may wait at most maxRowAge.
func windowSize(rate float64, maxRowAge time.Duration) int {
	if rate <= 0 {
		return windowUnlimited
	}
	n := max(int(rate*windowMinutes.Seconds()), windowMin)
	return max(1, min(n, int(rate*maxRowAge.Seconds()/2)))
}

// window tops up one provider's queue.
type window struct {
	provider jobs.Provider
	srv      *Server
	kick     chan struct{}

	queued    atomic.Int64 // tasks this worker queued
	conflicts atomic.Int64 // tasks asynq already held (a repaired claim's rows its first worker did queue)
}

func newWindow(p jobs.Provider, s *Server) *window {
	return &window{provider: p, srv: s, kick: make(chan struct{}, 1)}
}

// poke asks for a top up soon: a row finished.
func (w *window) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// size returns the window's size now (--rate auto moves it).
func (w *window) size() int {
	if n := w.srv.cfg.Window.Size; n > 0 {
		return n
	}
	rate := 0.0
	if pc := w.srv.pacers[w.provider]; pc != nil {
		rate, _ = pc.rate()
	}
	return windowSize(rate, w.srv.cfg.MaxRowAge)
}

// run tops up on every tick and soon after rows finish, until ctx is done. A top up under way
// when ctx ends completes, so no claim is left for the lease to repair.
func (w *window) run(ctx context.Context) {
	tick := w.srv.cfg.Window.Tick
	if tick <= 0 {
		tick = windowTick
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	w.topUp(ctx, true)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.topUp(ctx, true)
		case <-w.kick:
			if clock.Sleep(ctx, windowSettle) != nil {
				return
			}
			w.topUp(ctx, false)
		}
	}
}

// topUp claims rows of the provider's runs, oldest run first, until the window is full, and
// queues their tasks; on the tick (repair) it first queues the rows of stale claims. A top up
// after rows finished waits until half the window is free: it then claims big chunks now and
// then, rather than a few rows every few milliseconds, and costs one round trip (the backlog)
// until then.
func (w *window) topUp(ctx context.Context, repair bool) {
	s := w.srv
	if s.isPaused(w.provider) {
		return // the window stays as it is; its rows age, as the design says
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), windowTopUpBudget)
	defer cancel()
	log := slog.New(&laterAttrs{h: s.log.Handler(), attrs: []slog.Attr{slog.String("provider", string(w.provider))}})
	size := w.size()
	free := 0
	if !repair {
		backlog, err := s.store.QueueBacklog(ctx, w.provider.Queue())
		if err != nil {
			log.Warn("window: could not read the queue's backlog", "err", err)
			return
		}
		if free = size - backlog; free < (size+1)/2 {
			return
		}
	}
	runs, err := s.store.WindowRuns(ctx, w.provider, windowMaxRuns)
	if err != nil {
		log.Warn("window: could not list runs", "err", err)
		return
	}
	if len(runs) == 0 {
		return
	}
	if repair {
		lease := s.cfg.Window.ClaimLease
		if lease <= 0 {
			lease = windowClaimLease
		}
		for _, id := range runs {
			w.repair(ctx, id, lease)
		}
		backlog, err := s.store.QueueBacklog(ctx, w.provider.Queue())
		if err != nil {
			log.Warn("window: could not read the queue's backlog", "err", err)
			return
		}
		free = size - backlog
	}
	for _, id := range runs {
		for free > 0 {
			c, err := s.store.ClaimRows(ctx, w.provider, id, min(free, windowMaxClaim))
			if errors.Is(err, jobs.ErrRunNotFound) {
				_ = s.store.CloseWindow(ctx, w.provider, id) // the run was deleted
				break
			}
			if err != nil {
				log.Warn("window: could not claim rows", "run", id, "err", err)
				return
			}
			if len(c.Rows) > 0 {
				if err := w.enqueue(ctx, c); err != nil {
					// Left unacknowledged: a worker queues its rows once the lease runs out.
					log.Warn("window: could not queue claimed rows; they are queued once the claim's lease runs out", "run", id, "claim", c.ID, "err", err)
					return
				}
				free -= len(c.Rows)
			}
			if c.Exhausted {
				if err := s.store.CloseWindow(ctx, w.provider, id); err != nil {
					log.Warn("window: could not close a run's window", "run", id, "err", err)
				}
				break
			}
			if !c.More {
				break
			}
		}
		if free <= 0 {
			return
		}
	}
}

// repair queues the rows of a run's claims that stayed unacknowledged longer than lease.
func (w *window) repair(ctx context.Context, runID string, lease time.Duration) {
	for range windowMaxRuns { // a bound, not a count: normally there is none
		c, err := w.srv.store.ReclaimStale(ctx, w.provider, runID, lease)
		if err != nil || c.ID == "" {
			if err != nil && !errors.Is(err, jobs.ErrRunNotFound) {
				w.srv.log.Warn("window: could not look for stale claims", "run", runID, "err", err)
			}
			return
		}
		w.srv.log.Info("window: queueing the rows of a claim whose worker stopped before queueing them",
			"provider", w.provider, "run", runID, "claim", c.ID, "rows", len(c.Rows))
		if err := w.enqueue(ctx, c); err != nil {
			w.srv.log.Warn("window: could not queue a stale claim's rows", "run", runID, "claim", c.ID, "err", err)
			return
		}
	}
}

// enqueue queues the tasks of a claim's rows in one round trip (jobs.Store.QueueClaim), then
// acknowledges the claim. A task id asynq already holds is a row queued before (by the claim's
// first worker): not an error. The rows enter the window now, by the server's clock: their age
// (--max-row-age) counts from here, on the clock the handler reads it with.
func (w *window) enqueue(ctx context.Context, c jobs.Claim) error {
	queued, known, err := w.srv.store.QueueClaim(ctx, c, w.srv.clock.Now(), func(r jobs.Row, err error) {
		// Ingest refused such rows; one recorded by an older version is left for cancel.
		w.srv.log.Error("window: stored row has bad ids", "run", c.RunID, "line", r.Line, "err", err)
	})
	if err != nil {
		return err
	}
	w.queued.Add(int64(queued))
	w.conflicts.Add(int64(known))
	return w.srv.store.AckClaim(ctx, c.RunID, c.ID)
}

// windowMiddleware pokes the provider's window after each of its tasks is handled, so the window
// is topped up as rows finish rather than only on its tick.
func (s *Server) windowMiddleware(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := h.ProcessTask(ctx, t)
		for p, w := range s.windows {
			if p.TaskType() == t.Type() {
				w.poke()
			}
		}
		return err
	})
}
