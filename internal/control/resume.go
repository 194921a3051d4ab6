// This file resumes a paused provider: its credentials checked first where this machine has
// them, then its queue unpaused for every worker, and what the pause was about said.

package control

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/config"
	"reactivator/internal/providers"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/worker"
)

// CheckResume proves the credentials of p with a read-only call (lines to w) before p is
// resumed; the error of a refusal says that p stays paused. Where ps has no credentials for p
// it checks nothing and tells w so.
func CheckResume(ctx context.Context, ps providers.Set, p jobs.Provider, w io.Writer) error {
	if !ps.Has(p) {
		fmt.Fprintf(w, "%s: no credentials on this machine, not checked: make sure the workers' credentials are fixed\n", p)
		return nil
	}
	if err := providers.CheckTo(ctx, ps, []jobs.Provider{p}, w); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %s stays paused; fix the cause first", err, p)
	}
	return nil
}

// CheckResumeEnv is CheckResume with the provider settings of env alone (no flags), each call
// bounded by resumeCheckTimeout, saying nothing on success: the dashboard's resume button.
func CheckResumeEnv(ctx context.Context, env config.Env, p jobs.Provider) error {
	ps, err := providers.Load(env, providers.Flags{Timeout: resumeCheckTimeout})
	if err != nil {
		return err
	}
	return CheckResume(ctx, ps, p, io.Discard)
}

// resumeCheckTimeout bounds one call of CheckResumeEnv's check, as --call-timeout's default
// bounds the resume command's.
const resumeCheckTimeout = 30 * time.Second

// Resume unpauses p on rdb for every worker (worker.Resume) and tells out what the pause was:
// since when, by which run and row, and why; or that p was not paused.
func Resume(ctx context.Context, rdb redis.UniversalClient, p jobs.Provider, out io.Writer) error {
	paused, err := jobs.NewStore(rdb).Paused(ctx)
	if err != nil {
		return err
	}
	if err := worker.Resume(ctx, rdb, p); err != nil {
		return fmt.Errorf("resume %s: %w", p, err)
	}
	info, was := paused[p]
	if !was {
		fmt.Fprintf(out, "%s was not paused: nothing to resume\n", p)
		return nil
	}
	where := ""
	if info.RunID != "" {
		where = fmt.Sprintf(" by run %s line %d", info.RunID, info.Line)
	}
	fmt.Fprintf(out, "resumed %s: it was paused since %s%s: %s\n", p, status.TimeText(info.At), where, info.Reason)
	fmt.Fprintf(out, "the workers pick up its rows within a second; follow them: reactivator status --watch\n")
	return nil
}
