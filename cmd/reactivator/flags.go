// This file holds the flags that several commands share: how input files are read (ingest,
// run) and how a worker is tuned (worker, run), with their checks.

package main

import (
	"time"

	"github.com/spf13/pflag"

	"reactivator/internal/config"
	"reactivator/jobs"
	"reactivator/worker"
)

// fileFlags bind the flags that say how to read input files and name their runs (config.Files),
// and --no-check: ingest's and run's.
type fileFlags struct {
	config.Files
	noCheck bool
}

func (f *fileFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Provider, "provider", "", "the files' provider, stytch or zitadel (default: from the header)")
	fs.StringVar(&f.Delimiter, "delimiter", "", "field delimiter: ',', ';' or tab (default: detected)")
	fs.StringVar(&f.RunID, "run", "", "the run's id (one file only; default: provider and a hash of the file)")
	fs.BoolVar(&f.NewRun, "new-run", false, "start a fresh run even if this file was queued before")
	fs.BoolVar(&f.noCheck, "no-check", false, "skip the credentials check")
}

// serveFlags bind the flags that tune a worker (config.Serve): the worker command's and the one
// run and undo start in this process.
type serveFlags struct{ serve config.Serve }

func (f *serveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.serve.Rate, "rate", "", `requests per second per provider, the whole fleet together: "stytch=50,zitadel=40", or "stytch=auto" (env REACTIVATOR_RATE; default stytch=50,zitadel=40)`)
	fs.Float64Var(&f.serve.MaxRate, "max-rate", 200, "the most requests per second --rate auto may reach")
	fs.IntVar(&f.serve.Concurrency, "concurrency", 100, "how many rows are handled at once")
	fs.IntVar(&f.serve.MaxAttempts, "max-attempts", 12, "transient failures a row may have before it ends failed")
	fs.DurationVar(&f.serve.MaxRowAge, "max-row-age", 24*time.Hour, "a row that entered its provider's window of queued tasks longer ago than this ends failed (time waiting in the run store before that does not count)")
	fs.DurationVar(&f.serve.ShutdownTimeout, "shutdown-timeout", 40*time.Second, "how long calls in flight may finish on shutdown or Ctrl-C")
}

// limits checks the flags (config.Serve.Validate: a bad one is a usage error) and returns the
// providers' rate limits (config.Env.Limits). rateFromFlag says whether --rate was given.
func (a *app) limits(f serveFlags, rateFromFlag bool) (map[jobs.Provider]worker.Limit, error) {
	f.serve.RateFromFlag = rateFromFlag
	if err := f.serve.Validate(); err != nil {
		return nil, usage(err)
	}
	return a.env.Limits(f.serve)
}
