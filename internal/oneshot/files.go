// This file is the use case of `reactivator run FILE.csv...`: check the files and the
// credentials, ask, open the Redis, and work each file as a run in this process to its report.

package oneshot

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"

	"reactivator/ingest"
	"reactivator/internal/exitcode"
	"reactivator/internal/providers"
	"reactivator/internal/runwait"
)

// FilesRequest is one `run`: its input files and how to read and report them.
type FilesRequest struct {
	Session
	// Files are the input CSV files, each worked as a run.
	Files []string
	// Report is --report (Targets): "" puts each report beside its name in the working directory.
	Report string
	// Options say how to read the files; RunID names the run of the one file; NewRun starts a
	// fresh run even for a file queued before (ingest.Config).
	Options ingest.Options
	RunID   string
	NewRun  bool
	// Limit, when more than 0, calls only the first Limit rows of each run not done yet (Runner).
	Limit int
	// JSON prints the outcome as one Result document on Out.
	JSON bool
}

// Files works r's files to their reports: it refuses a file that cannot be a CSV and a provider
// without credentials before anything is called, checks the credentials (unless NoCheck), asks
// (when Ask and not Yes), opens the Redis, and runs the files with an in-process worker
// (Runner.Run). A report path that cannot be is a *exitcode.UsageError (a bad command line); other errors are of Runner.Run's
// kinds.
func Files(ctx context.Context, r FilesRequest) error {
	targets, err := Targets(r.Files, r.Report)
	if err != nil {
		return exitcode.AsUsage(err)
	}
	// The files first: one that cannot be a CSV of either kind stops everything before a call.
	need, err := CheckFiles(targets, r.Options)
	if err != nil {
		return err
	}
	ps, err := providers.Load(r.Env, r.Providers)
	if err != nil {
		return err
	}
	if err := MissingCredentials(ps.Configured(), targets, need); err != nil {
		return err
	}
	if !r.NoCheck {
		if err := r.check(ctx, ps, need); err != nil {
			return err
		}
	}
	if !r.Yes && r.Ask && !Confirm(r.In, r.Err, "reactivate", Changes(ps, targets), r.Limit, nil) {
		return errNotConfirmed
	}
	c, err := r.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return runwait.Mark(runwait.ErrInterrupted, errors.New("interrupted before anything was queued"))
		}
		return err
	}
	defer r.close(c)
	shared := c.Embedded() == nil
	srv, err := r.server(ctx, c, shared, ps, need)
	if err != nil {
		return err
	}
	run := r.runner(c)
	run.Announce, run.Shared, run.Limit, run.JSON = true, shared, r.Limit, r.JSON
	run.Ingest = ingest.Config{Store: c.Store, Enqueuer: asynq.NewClientFromRedisClient(c.Client), Options: r.Options,
		RunID: r.RunID, NewRun: r.NewRun, StytchEnv: ps.StytchEnv()}
	return run.Run(ctx, srv, targets)
}
