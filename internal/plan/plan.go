// This file runs a plan of one file: read it as ingest does, keep what the file's run already
// recorded, read the other rows' accounts in batches, paced, and predict each row.

package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"reactivator/ingest"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// ZitadelReader reads ZITADEL users: worker/zitadel.Client is one.
type ZitadelReader interface {
	jobs.Reader
	// Permissions says where the service user may write users.
	Permissions(ctx context.Context) (zitadel.Permissions, error)
	// ReadUsers reads up to zitadel.MaxReadUsers users in one call.
	ReadUsers(ctx context.Context, ids []string) ([]jobs.Account, error)
}

// StytchReader reads Stytch members: worker/stytch.Client is one.
type StytchReader interface {
	jobs.Reader
	// Organization resolves an organization id or slug to its canonical id.
	Organization(ctx context.Context, ref string) (string, bool, error)
	// SearchMembers reads up to stytch.MaxSearchMembers members of one organization in one call.
	SearchMembers(ctx context.Context, orgID string, ids []string) ([]jobs.Account, error)
}

// DefaultZitadelRate paces ZITADEL reads as run paces its calls by default (40 a second).
var DefaultZitadelRate = rate.Limit(40)

// DefaultSearchRate paces Stytch reads as find does: 100 a minute.
var DefaultSearchRate = rate.Every(time.Minute / 100)

// Config says how to plan. Zero values are the defaults named on each field.
type Config struct {
	// Options are the reader's options (--provider, --delimiter), as for ingest.
	Options ingest.Options
	// StytchEnv is "test" or "live" when the Stytch project is known: rows of the other
	// environment are invalid, as ingest makes them.
	StytchEnv string
	// RunID is the run a `run` of the file would use; "" derives it as ingest does.
	RunID string
	// Store, when set, is the run store `run` would use: rows the file's run already finished
	// keep their recorded outcome. Nil reads every row.
	Store *jobs.Store
	// Zitadel and Stytch read the accounts; nil when the provider is not configured.
	Zitadel ZitadelReader
	Stytch  StytchReader
	// ZitadelAPI is "v1" or "v2" (""); DefaultOrgID is ZITADEL_ORG_ID. v1 acts in the row's
	// org_id, else DefaultOrgID, else the service user's own organisation (read with OwnOrg when
	// the ZitadelReader has it).
	ZitadelAPI, DefaultOrgID string
	// ZitadelLimiter paces ZITADEL reads; nil means DefaultZitadelRate.
	ZitadelLimiter *rate.Limiter
	// StytchLimiter paces Stytch reads; nil means DefaultSearchRate, a burst of one.
	StytchLimiter *rate.Limiter
	// BatchSize is the ids asked for per read; 0 means 1,000 (the providers' maximum).
	BatchSize int
	// Progress gets a line per batch; nil means none.
	Progress io.Writer
}

// Row is one row of a plan: the report's columns, the predicted outcome and the account's state.
type Row struct {
	Line     int
	Provider jobs.Provider
	// Input is the row's cells: organization_id, member_id, user_id, then the extra columns.
	Input []string
	Prediction
	// Recorded is the outcome the file's run already recorded for this row (Prediction then
	// repeats it); nil when the row is planned from a read.
	Recorded *jobs.OutcomeRecord
}

// Result is a plan of one file.
type Result struct {
	File     string
	Provider jobs.Provider
	// RunID is the run a `run` of the file would use; Resumed is true when it exists already.
	RunID   string
	Resumed bool
	// Columns are the input's extra columns.
	Columns []string
	Rows    []Row
	// Calls counts the provider calls that read accounts or organizations; ZITADEL's permission
	// look-up before them (two calls or a few more) is not counted.
	Calls int
	// Notes say what a run of the file would do besides its rows (refuse it, say).
	Notes []string
}

// Plan plans the file at path.
func Plan(ctx context.Context, cfg Config, path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ingest.FileError{File: path, Msg: "cannot open: " + err.Error()}
	}
	defer f.Close()
	res, rows, err := readFile(cfg, path, f)
	if err != nil {
		return nil, err
	}
	p := &planner{cfg: cfg, res: res}
	if err := p.recorded(ctx); err != nil {
		return nil, err
	}
	todo, err := p.lookups(ctx, p.decideLocal(rows))
	if err != nil {
		return nil, err
	}
	switch res.Provider {
	case jobs.Zitadel:
		err = p.zitadel(ctx, todo)
	case jobs.Stytch:
		err = p.stytch(ctx, todo)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// fileRow is a row as ingest reads it.
type fileRow struct {
	row     jobs.Row
	input   []string
	invalid string
}

// readFile reads the file as ingest does: the run id from its bytes, each record checked as
// ingest checks it.
func readFile(cfg Config, name string, r io.ReadSeeker) (*Result, []fileRow, error) {
	h := sha256.New()
	sum, err := ingest.Check(name, io.TeeReader(r, h), cfg.Options)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.Copy(h, r); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	res := &Result{File: name, Provider: sum.Provider, RunID: cfg.RunID}
	if res.RunID == "" {
		res.RunID = string(sum.Provider) + "-" + hex.EncodeToString(h.Sum(nil))[:12]
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	rd, err := ingest.NewReader(name, r, cfg.Options)
	if err != nil {
		return nil, nil, err
	}
	res.Columns = rd.ExtraColumns()
	rows := make([]fileRow, 0, sum.Rows)
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return res, rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
		ir := ingest.Prepare(rec, cfg.StytchEnv)
		rows = append(rows, fileRow{row: ir.Row, input: ir.Input, invalid: ir.Invalid})
	}
}

// planner holds one plan's state.
type planner struct {
	cfg  Config
	res  *Result
	rows []fileRow
	done map[int]jobs.OutcomeRecord
	// lim paces the provider's reads, look-ups included; made on first use.
	lim *rate.Limiter
}

// limiter returns the limiter of the file's provider: the configured one, else the default.
func (p *planner) limiter() *rate.Limiter {
	if p.lim != nil {
		return p.lim
	}
	switch {
	case p.res.Provider == jobs.Zitadel && p.cfg.ZitadelLimiter != nil:
		p.lim = p.cfg.ZitadelLimiter
	case p.res.Provider == jobs.Zitadel:
		p.lim = rate.NewLimiter(DefaultZitadelRate, 1)
	case p.cfg.StytchLimiter != nil:
		p.lim = p.cfg.StytchLimiter
	default:
		p.lim = rate.NewLimiter(DefaultSearchRate, 1)
	}
	return p.lim
}

// recorded loads the outcomes the file's run already recorded.
func (p *planner) recorded(ctx context.Context) error {
	if p.cfg.Store == nil {
		return nil
	}
	run, err := p.cfg.Store.Run(ctx, p.res.RunID)
	if errors.Is(err, jobs.ErrRunNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	p.res.Resumed = true
	base := filepath.Base(p.res.File)
	switch {
	case run.Cancelled:
		p.res.Notes = append(p.res.Notes, fmt.Sprintf("run %s of %s was cancelled: run refuses it without --new-run (which plans like a fresh run)", run.ID, base))
		return nil
	case run.Provider != p.res.Provider:
		p.res.Notes = append(p.res.Notes, fmt.Sprintf("run %s is a %s run: run refuses %s without another --run", run.ID, run.Provider, base))
		return nil
	}
	p.done = map[int]jobs.OutcomeRecord{}
	return p.cfg.Store.EachRow(ctx, run.ID, func(r jobs.ReportRow) error {
		if !r.Pending {
			p.done[r.Line] = r.Outcome
		}
		return nil
	})
}

// decideLocal decides the rows that need no read: invalid and duplicate ones, as ingest and the
// run store decide them, and those the file's run already finished. It returns the indexes of
// the rows to read.
func (p *planner) decideLocal(rows []fileRow) []int {
	p.rows = rows
	first := make(map[string]int, len(rows))
	p.res.Rows = make([]Row, len(rows))
	var todo []int
	for i, fr := range rows {
		out := &p.res.Rows[i]
		*out = Row{Line: fr.row.Line, Provider: p.res.Provider, Input: fr.input}
		if fr.invalid != "" {
			out.Prediction = Prediction{Outcome: string(jobs.Invalid), Message: fr.invalid}
			continue
		}
		key := fr.row.Key()
		switch rec, done := p.done[fr.row.Line]; {
		case first[key] != 0:
			out.Prediction = Prediction{Outcome: string(jobs.Duplicate), Message: fmt.Sprintf("duplicate of line %d", first[key])}
		case done:
			first[key] = fr.row.Line
			out.Recorded = &rec
			out.Prediction = Prediction{Outcome: string(rec.Outcome), Reason: rec.Reason,
				Message: "already done by run " + p.res.RunID + ": " + rec.Message}
		default:
			first[key] = fr.row.Line
			todo = append(todo, i)
		}
	}
	return todo
}
