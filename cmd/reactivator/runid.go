// This file completes run ids and providers in the shell (cobra's completion command); a command
// that takes RUN also takes a unique prefix of its id (status.ResolveRun).

package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"reactivator/jobs"
)

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
	ids, _, err := rc.Store.RunIDs(ctx, toComplete, 500)
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
