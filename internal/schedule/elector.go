// This file is the elector: which of the instances sharing a Redis leads.

package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"reactivator/internal/clock"
	"reactivator/jobs"
)

// Elector makes one instance at a time the leader of a role, with a lock in Redis
// (jobs.Store.AcquireLock): the leader renews it every TTL/3, the others stand by and take over
// within TTL when the leader stops or dies.
type Elector struct {
	// Store holds the lock. Required.
	Store *jobs.Store
	// Name is the role, and the lock's name. Required.
	Name string
	// Token names this instance in the lock and the logs (InstanceToken). Required.
	Token string
	// TTL is how long the lock outlives a leader that stopped renewing it. Required, 1s or more.
	TTL time.Duration
	// Log gets a line on each change of leadership; nil logs nothing.
	Log *slog.Logger
	// Clock tells the time of renewals; nil means clock.Real.
	Clock clock.Clock
}

// InstanceToken names this process in a lock and the logs: host, pid and a random part.
func InstanceToken() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	return fmt.Sprintf("%s:%d:%s", strings.ReplaceAll(host, " ", "-"), os.Getpid(), hex.EncodeToString(b)), nil
}

func (e *Elector) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

// Run stands by until this instance takes the lock, then calls lead with a context that ends
// when the lock is lost or ctx ends, and stands by again once lead returns; it returns when ctx
// ends, releasing the lock if it holds it, so a standby takes over at once.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) {
	log := e.log()
	poll := e.TTL / 3
	lastHolder := "-"
	for ctx.Err() == nil {
		ok, err := e.Store.AcquireLock(ctx, e.Name, e.Token, e.TTL)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("cannot take the "+e.Name+" lock; trying again", "err", err)
		case ok:
			lastHolder = "-"
			if e.hold(ctx, lead) {
				continue
			}
		default:
			holder, _ := e.Store.LockHolder(ctx, e.Name)
			if holder != lastHolder {
				log.Info(e.Name+" standby: another instance is active; this one takes over if it stops", "active", holder)
				lastHolder = holder
			}
		}
		_ = clock.Sleep(ctx, poll)
	}
}

// hold runs lead while renewing the lock every TTL/3. It reports whether the lock was lost to
// another instance or given up, so Run tries again at once; false when lead returned on its own
// (the lock is then released, and Run waits a poll before trying again).
func (e *Elector) hold(ctx context.Context, lead func(context.Context)) bool {
	log, clk := e.log(), clock.Or(e.Clock)
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(leadCtx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	t := time.NewTicker(e.TTL / 3)
	defer t.Stop()
	lastRenew := clk.Now()
	for {
		select {
		case <-ctx.Done():
			stop()
			e.release(ctx)
			log.Info(e.Name + " lock released: a standby takes over")
			return true
		case <-done:
			e.release(ctx)
			return false
		case <-t.C:
		}
		err := e.Store.RenewLock(ctx, e.Name, e.Token, e.TTL)
		switch {
		case err == nil:
			lastRenew = clk.Now()
		case errors.Is(err, jobs.ErrLockLost):
			stop()
			log.Error(e.Name + " lock lost (another instance took over): standing by")
			return true
		case ctx.Err() != nil:
		case clk.Now().Sub(lastRenew) > e.TTL*2/3:
			// The lock may expire before it is renewed: stop leading before a standby starts.
			stop()
			e.release(ctx)
			log.Error("cannot renew the "+e.Name+" lock: stopped leading, standing by", "err", err)
			return true
		default:
			log.Warn("cannot renew the "+e.Name+" lock; trying again", "err", err)
		}
	}
}

// release frees the lock if this instance holds it.
func (e *Elector) release(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := e.Store.ReleaseLock(rctx, e.Name, e.Token); err != nil {
		e.log().Warn("cannot release the "+e.Name+" lock: a standby takes over when it expires", "err", err, "ttl", e.TTL)
	}
}
