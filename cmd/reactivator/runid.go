// This file lets every command that takes RUN accept a unique prefix of a run id, and completes
// run ids and providers in the shell (cobra's completion command).

package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"reactivator/internal/status"
	"reactivator/jobs"
)

// resolveRun returns the id of the run arg names: the run of that id, or the one run whose id
// starts with it. An ambiguous prefix is an error that lists the runs it could name.
func resolveRun(ctx context.Context, store *jobs.Store, arg string) (string, error) {
	id, err := store.ResolveRun(ctx, arg)
	if err != nil {
		if amb := (*jobs.AmbiguousRunError)(nil); errors.As(err, &amb) {
			return "", err
		}
		return "", status.UnknownRun(arg, err)
	}
	return id, nil
}

// completionTimeout bounds the Redis look-up behind a completion: a shell waits for it.
const completionTimeout = 2 * time.Second

// completeRun completes a command's RUN argument with the ids of the runs in Redis (REDIS_URL
// or --redis); nothing when Redis cannot be reached. File names are never offered.
func (a *app) completeRun(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	rc, err := a.connectRedis(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer rc.Close()
	ids, _, err := rc.store.RunIDs(ctx, toComplete, 500)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

// completeProvider completes a provider name.
func completeProvider(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := make([]cobra.Completion, 0, len(jobs.Providers))
	for _, p := range jobs.Providers {
		out = append(out, string(p))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
