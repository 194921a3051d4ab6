// This file completes run ids and providers in the shell (cobra's completion command); a command
// that takes RUN also takes a unique prefix of its id (status.ResolveRun).

package main

import (
	"github.com/spf13/cobra"

	"reactivator/internal/status"
	"reactivator/jobs"
)

// completeRun completes a command's RUN argument with the ids of the runs in Redis (REDIS_URL
// or --redis; status.CompleteRun); nothing when Redis cannot be reached. File names are never
// offered.
func (a *app) completeRun(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return status.CompleteRun(cmd.Context(), a.sharedRedis(), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeProvider completes a provider name.
func completeProvider(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := make([]cobra.Completion, 0, len(jobs.Providers))
	for _, p := range jobs.Providers {
		out = append(out, string(p))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
