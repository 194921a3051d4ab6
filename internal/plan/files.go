// This file plans several files and writes each one's plan next to the working directory, as
// run writes its reports: <file>.plan.csv, never overwriting an existing one unless forced.

package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"reactivator/internal/providers"
	"reactivator/internal/runwait"
	"reactivator/jobs"
	"reactivator/jobs/reportfile"
)

// UseProviders gives cfg a reader per provider ps has credentials for, the Stytch project's
// environment, and ZITADEL's API and default organization.
func (cfg *Config) UseProviders(ctx context.Context, ps providers.Set) error {
	cl, err := ps.Clients(ctx)
	if err != nil {
		return err
	}
	cfg.StytchEnv = ps.StytchEnv()
	if cl.Zitadel != nil {
		cfg.Zitadel, cfg.ZitadelAPI, cfg.DefaultOrgID = cl.Zitadel, ps.Zitadel.API, ps.Zitadel.DefaultOrgID
	}
	if cl.Stytch != nil {
		cfg.Stytch = cl.Stytch
	}
	return nil
}

// Path returns where the plan of input goes: <its base name>.plan.csv in dir ("" the working
// directory). When that file exists, the next free numbered name (x.plan.1.csv) is returned
// with kept true, unless force, which overwrites.
func Path(input, dir string, force bool) (path string, kept bool, err error) {
	path = filepath.Join(dir, filepath.Base(input)+".plan.csv")
	n, err := reportfile.Free(force, path)
	if err != nil {
		return "", false, err
	}
	return reportfile.Numbered(path, n), n > 0, nil
}

// Files plans each file in turn and writes its plan (Path, in dir); notes (an existing plan
// kept, a run that would be refused) go to w. It stops at the first error: a fatal provider
// answer wraps jobs.ErrFatal.
func Files(ctx context.Context, cfg Config, files []string, dir string, force bool, w io.Writer) ([]Summary, error) {
	var out []Summary
	for _, f := range files {
		res, err := Plan(ctx, cfg, f)
		if err != nil {
			return out, err
		}
		path, kept, err := Path(f, dir, force)
		if err != nil {
			return out, err
		}
		if kept {
			fmt.Fprintf(w, "%s exists: kept it; --force overwrites it\n", filepath.Join(dir, filepath.Base(f)+".plan.csv"))
		}
		if err := res.WriteFile(path); err != nil {
			return out, err
		}
		for _, n := range res.Notes {
			fmt.Fprintln(w, "note: "+n)
		}
		out = append(out, res.Summary(path))
	}
	return out, nil
}

// Print prints the plans' summaries to w: one JSON array with asJSON, else WriteText's
// paragraphs. When some row would not be reactivated it returns an error of kind
// runwait.ErrNotAllReactivated with no message (the summaries said it), exit 3.
func Print(w io.Writer, sums []Summary, asJSON bool) error {
	if asJSON {
		if err := json.NewEncoder(w).Encode(sums); err != nil {
			return err
		}
	} else {
		WriteText(w, sums)
	}
	for _, s := range sums {
		if !s.AllReactivated {
			return runwait.Mark(runwait.ErrNotAllReactivated, errors.New(""))
		}
	}
	return nil
}

// WriteText writes one paragraph per plan for people: where it went, the counts per predicted
// outcome in report order, and the command that would do it.
func WriteText(w io.Writer, sums []Summary) {
	for _, s := range sums {
		fmt.Fprintf(w, "%s: %d rows of %s, a run would give:\n", s.File, s.Rows, s.Provider)
		order := append(slices.Clone(jobs.Outcomes), Unknown)
		for _, o := range order {
			if n := s.Counts[string(o)]; n > 0 {
				fmt.Fprintf(w, "  %-16s %d\n", o, n)
			}
		}
		resumed := ""
		if s.Resumed {
			resumed = " (resuming run " + s.RunID + ")"
		}
		fmt.Fprintf(w, "  wrote %s; %d read calls, nothing changed. To do it: reactivator run %s%s\n", s.Plan, s.Calls, s.File, resumed)
	}
}
