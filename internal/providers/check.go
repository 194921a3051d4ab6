package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"reactivator/internal/runwait"
	"reactivator/jobs"
	"reactivator/worker"
)

// CheckResult is the document `check --json` prints. Its field names and meanings are part of
// the program's interface.
type CheckResult struct {
	// Providers are the configured providers' checks, in the order stytch, zitadel.
	Providers []ProviderCheck `json:"providers"`
}

// ProviderCheck is one provider's check.
type ProviderCheck struct {
	Provider jobs.Provider `json:"provider"`
	// Status is ok; refused (the credentials or the permission were refused: exit 4); or
	// unreachable (no answer, or not the provider's: exit 1).
	Status string `json:"status"`
	// Target is what was checked: the project or instance and its base URL; never a secret.
	Target string `json:"target"`
	// Message says what went wrong; "" when Status is ok.
	Message string `json:"message,omitempty"`
}

// The statuses of a ProviderCheck.
const (
	CheckOK          = "ok"
	CheckRefused     = "refused"
	CheckUnreachable = "unreachable"
)

// CheckTo runs the credentials check of each provider of which, printing one line per provider
// to w. It returns nil when all are good, a jobs.ErrFatal error when a provider refused the
// credentials, else a plain error (unreachable, or answering 5xx).
func CheckTo(ctx context.Context, ps Set, which []jobs.Provider, w io.Writer) error {
	return Check(ctx, ps, which, func(c ProviderCheck) {
		switch c.Status {
		case CheckOK:
			fmt.Fprintf(w, "%s: ok (%s)\n", c.Provider, c.Target)
		case CheckRefused:
			fmt.Fprintf(w, "%s: credentials refused: %s\n", c.Provider, c.Message)
		default:
			fmt.Fprintf(w, "%s: not reachable or not answering: %s\n", c.Provider, c.Message)
		}
	})
}

// WorkerCallers checks the credentials of every configured provider (a line each to w), as a
// worker does before it serves them, and builds their clients. A Set with none is an error
// wrapping ErrNoneConfigured; a refused or unreachable provider stops it ("worker not started").
func WorkerCallers(ctx context.Context, ps Set, w io.Writer) (map[jobs.Provider]worker.Caller, error) {
	serve := ps.Configured()
	if len(serve) == 0 {
		return nil, fmt.Errorf("nothing to serve: %w", ErrNoneConfigured)
	}
	if err := CheckTo(ctx, ps, serve, w); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("worker not started: %w", err)
	}
	return ps.Callers(ctx)
}

// CheckJSON runs Check and prints its CheckResult to w as one indented JSON document, for
// `check --json`. It returns what Check does; when ctx ended it prints nothing.
func CheckJSON(ctx context.Context, ps Set, which []jobs.Provider, w io.Writer) error {
	doc := CheckResult{Providers: []ProviderCheck{}}
	err := Check(ctx, ps, which, func(c ProviderCheck) { doc.Providers = append(doc.Providers, c) })
	if ctx.Err() != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if jerr := enc.Encode(doc); jerr != nil {
		return jerr
	}
	return err
}

// Check checks each configured provider of which with a read-only call, hands each result to
// seen, and returns what CheckTo does.
func Check(ctx context.Context, ps Set, which []jobs.Provider, seen func(ProviderCheck)) error {
	callers, err := ps.Callers(ctx)
	if err != nil {
		return err
	}
	var refused, failed []string
	for _, p := range which {
		c, ok := callers[p]
		if !ok {
			continue
		}
		err := c.Check(ctx)
		res := ProviderCheck{Provider: p, Status: CheckOK, Target: ps.describe(p, c)}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, jobs.ErrFatal):
			res.Status, res.Message = CheckRefused, checkMessage(p, err)
			refused = append(refused, string(p))
		default:
			res.Status, res.Message = CheckUnreachable, checkMessage(p, err)
			failed = append(failed, string(p))
		}
		seen(res)
	}
	switch {
	case len(refused) > 0:
		return runwait.Mark(jobs.ErrFatal, fmt.Errorf("%s refused the credentials", strings.Join(refused, " and ")))
	case len(failed) > 0:
		return fmt.Errorf("%s could not be checked: check the network and the base URL, then try again", strings.Join(failed, " and "))
	}
	return nil
}

// describe says which project or instance a provider's client talks to, without secrets.
func (ps Set) describe(p jobs.Provider, c worker.Caller) string {
	base := ""
	if b, ok := c.(interface{ BaseURL() string }); ok {
		base = b.BaseURL()
	}
	switch p {
	case jobs.Stytch:
		if ps.Stytch != nil {
			return ps.Stytch.ProjectID + ", " + base
		}
	case jobs.Zitadel:
		if ps.Zitadel != nil {
			api := ps.Zitadel.API
			if api == "" {
				api = "v2"
			}
			out := ps.Zitadel.BaseURL + ", API " + api
			if sc, ok := c.(interface{ Scope() string }); ok && sc.Scope() != "" {
				out += "; the service user " + sc.Scope()
			}
			return out
		}
	}
	return base
}

// checkMessage is a check error without the "<provider> check: " its client puts first.
func checkMessage(p jobs.Provider, err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, string(p)+" check: ")
	return strings.TrimSuffix(msg, ": "+jobs.ErrFatal.Error())
}
