// This file holds retention: Prune deletes finished runs older than a cutoff with every key of
// theirs and their leftover asynq tasks, and never touches a run that is not finished.

package jobs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// DefaultRetention is how long finished runs are kept when nothing else is said.
const DefaultRetention = 30 * 24 * time.Hour

// PruneOptions say which runs Prune deletes.
type PruneOptions struct {
	// Before is the cutoff: runs finished before it are deleted. Required.
	Before time.Time
	// DryRun finds and counts what would be deleted, and deletes nothing.
	DryRun bool
	// Limit is the most runs one call deletes; 0 means no limit.
	Limit int
}

// PrunedRun is a run Prune deleted (or, in a dry run, would delete).
type PrunedRun struct {
	ID         string    `json:"id"`
	Provider   Provider  `json:"provider"`
	File       string    `json:"file"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Keys is the number of the run's own keys deleted; Tasks the number of its asynq tasks.
	Keys  int `json:"keys"`
	Tasks int `json:"tasks"`
}

// SkippedRun is a finished run old enough to prune that Prune left for a later call, and why.
type SkippedRun struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// PruneResult is what Prune did.
type PruneResult struct {
	Runs    []PrunedRun  `json:"runs"`
	Skipped []SkippedRun `json:"skipped,omitempty"`
	Keys    int          `json:"keys"`
	Tasks   int          `json:"tasks"`
	DryRun  bool         `json:"dry_run,omitempty"`
}

// pruneBatch is how many runs Prune considers at once: one SCAN of the keyspace per batch.
const pruneBatch = 200

// Prune deletes the runs finished before o.Before: every key under the run's hash tag
// (reactivator:{<run id>}:*, found by SCAN on every master, so keys added by later versions go
// too), its entries in the indexes of runs, and its asynq tasks that are still stored (archived
// ones, chiefly). A run that is not finished is never touched, however old. A run with a task
// being handled right now is skipped and left for the next call.
func (s *Store) Prune(ctx context.Context, o PruneOptions) (PruneResult, error) {
	res := PruneResult{Runs: []PrunedRun{}, DryRun: o.DryRun}
	if o.Before.IsZero() {
		return res, errors.New("prune: no cutoff")
	}
	cutoff := o.Before.UnixMilli()
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	offset := int64(0)
	for o.Limit == 0 || len(res.Runs) < o.Limit {
		// Runs created before the cutoff are the only ones that can have finished before it.
		ids, err := s.rdb.ZRangeByScore(ctx, runsKey, &redis.ZRangeBy{Min: "-inf", Max: "(" + strconv.FormatInt(cutoff, 10), Offset: offset, Count: pruneBatch}).Result()
		if err != nil {
			return res, fmt.Errorf("prune: %w", err)
		}
		if len(ids) == 0 {
			return res, nil
		}
		runs, err := s.runsOf(ctx, ids)
		if err != nil {
			return res, fmt.Errorf("prune: %w", err)
		}
		var due []Run
		remain := int64(0) // entries of this batch that stay in the index
		for i, r := range runs {
			switch {
			case r == nil:
				// Its keys are gone already (a prune that stopped before the index): drop the entry.
				if o.DryRun {
					remain++
				} else if err := s.unindex(ctx, ids[i]); err != nil {
					return res, err
				}
			case r.State == RunFinished && r.FinishedAt.UnixMilli() < cutoff && (o.Limit == 0 || len(res.Runs)+len(due) < o.Limit):
				due = append(due, *r)
			default:
				remain++
			}
		}
		pruned, err := s.pruneRuns(ctx, insp, due, cutoff, o.DryRun, &res)
		if err != nil {
			return res, err
		}
		if o.DryRun {
			pruned = 0
		}
		// The next batch starts after the entries that stay.
		offset += remain + int64(len(due)-pruned)
		if len(ids) < pruneBatch {
			return res, nil
		}
	}
	return res, nil
}

// pruneKeyBatch is the most key names Prune holds at once and deletes in one script call. It
// bounds what pruning costs the process and how long one script blocks Redis, whatever the size
// of the run: a ten-million-row run has about 470,000 keys.
const pruneKeyBatch = 2000

// pruneRuns deletes the tasks, then the keys, then the index entries of runs (due are finished
// before cutoff), adding them to res. It returns how many it pruned.
//
// The keys go in batches of pruneKeyBatch, found by SCAN as it goes, each batch one script that
// checks, in the same step, that the run is still finished before the cutoff. The first marks the
// run's hash as being pruned (field pruning), so that a prune stopped between batches leaves a
// run every view shows as such (Run.Pruning), never one that looks whole with rows missing; the
// next prune finishes it. The run's hash goes last, then its index entries.
func (s *Store) pruneRuns(ctx context.Context, insp *asynq.Inspector, due []Run, cutoff int64, dry bool, res *PruneResult) (int, error) {
	var ready []*PrunedRun
	for _, r := range due {
		pr := PrunedRun{ID: r.ID, Provider: r.Provider, File: r.File, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
		// Tasks first: once the run's keys are gone nothing would lead to its tasks, and a task
		// left queued would call the provider for a row with no record.
		tasks, busy, err := s.runTasks(ctx, r)
		if err != nil {
			return 0, err
		}
		if busy {
			res.Skipped = append(res.Skipped, SkippedRun{ID: r.ID, Reason: "a task of the run is being handled"})
			continue
		}
		pr.Tasks = len(tasks)
		if !dry {
			if pr.Tasks, busy, err = s.deleteTasks(ctx, insp, tasks); err != nil {
				return 0, fmt.Errorf("prune run %s: %w", r.ID, err)
			}
			if busy {
				res.Skipped = append(res.Skipped, SkippedRun{ID: r.ID, Reason: "a task of the run is being handled"})
				res.Tasks += pr.Tasks
				continue
			}
		}
		ready = append(ready, &pr)
	}
	if len(ready) == 0 {
		return 0, nil
	}
	live := make(map[string]*PrunedRun, len(ready))
	for _, pr := range ready {
		live[pr.ID] = pr
	}
	notFinished := func(pr *PrunedRun) {
		res.Skipped = append(res.Skipped, SkippedRun{ID: pr.ID, Reason: "the run is not finished before the cutoff"})
		res.Tasks += pr.Tasks
		delete(live, pr.ID)
	}
	if dry {
		// Count the keys, the run's hash among them; a run without one is gone already.
		have := map[string]bool{}
		err := s.eachRunKey(ctx, live, func(id, k string) error {
			live[id].Keys++
			have[id] = have[id] || k == runKey(id)
			return nil
		})
		if err != nil {
			return 0, err
		}
		for id := range live {
			if !have[id] {
				delete(live, id)
			}
		}
	} else {
		// The mark, before any key goes.
		for _, pr := range ready {
			v, err := s.pruneKeys(ctx, pr.ID, nil, cutoff, false)
			if err != nil {
				return 0, err
			}
			switch v {
			case -1:
				notFinished(pr)
			case -2:
				delete(live, pr.ID) // pruned meanwhile by another prune
			}
		}
		if err := s.deleteRunKeys(ctx, live, cutoff, notFinished); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, pr := range ready {
		if live[pr.ID] == nil {
			continue
		}
		if !dry {
			// The run's hash last: until it goes, the run is listed, marked as being pruned.
			v, err := s.pruneKeys(ctx, pr.ID, nil, cutoff, true)
			if err != nil {
				return n, err
			}
			if v == -1 {
				notFinished(pr)
				continue
			}
			if v == -2 {
				continue
			}
			pr.Keys += v
			if err := s.unindex(ctx, pr.ID); err != nil {
				return n, err
			}
		}
		res.Runs = append(res.Runs, *pr)
		res.Keys += pr.Keys
		res.Tasks += pr.Tasks
		n++
	}
	return n, nil
}

// deleteRunKeys deletes the keys of the runs in live but their hashes, a batch of at most
// pruneKeyBatch names at a time, adding what it deleted to each run's Keys. A run its script
// finds not finished before the cutoff goes to notFinished (which drops it from live) and keeps
// the rest of its keys; one whose hash is gone (another prune finished it) is dropped.
func (s *Store) deleteRunKeys(ctx context.Context, live map[string]*PrunedRun, cutoff int64, notFinished func(*PrunedRun)) error {
	if len(live) == 0 {
		return nil
	}
	batch := map[string][]string{}
	held := 0
	flush := func() error {
		for id, ks := range batch {
			pr := live[id]
			if pr == nil {
				continue
			}
			v, err := s.pruneKeys(ctx, id, ks, cutoff, false)
			if err != nil {
				return err
			}
			switch v {
			case -1:
				notFinished(pr)
			case -2:
				delete(live, id)
			default:
				pr.Keys += v
			}
			if s.pruneBatchDone != nil {
				if err := s.pruneBatchDone(id); err != nil {
					return err
				}
			}
		}
		clear(batch)
		held = 0
		return nil
	}
	err := s.eachRunKey(ctx, live, func(id, k string) error {
		if k == runKey(id) || live[id] == nil {
			return nil
		}
		batch[id] = append(batch[id], k)
		if held++; held >= pruneKeyBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return err
}

// pruneKeys runs pruneKeysScript for run id: it marks the run as being pruned and deletes keys
// (none of them its hash), then the run's hash too if last, if the run is finished before cutoff.
// It returns the number of keys deleted, -1 when the run is not finished before the cutoff, -2
// when its hash is gone.
func (s *Store) pruneKeys(ctx context.Context, id string, keys []string, cutoff int64, last bool) (int, error) {
	ks := make([]string, 0, 1+len(keys))
	ks = append(append(ks, runKey(id)), keys...)
	v, err := pruneKeysScript.Run(ctx, s.rdb, ks, cutoff, last).Int()
	if err != nil {
		return 0, fmt.Errorf("prune run %s: %w", id, err)
	}
	return v, nil
}

// pruneKeysScript deletes keys of one run, all under its hash tag (one slot), if the run is
// finished before the cutoff, and marks the run's hash as being pruned: the check, the mark and
// the delete are one step, so no run that is not finished loses a key, and none loses one
// without the mark.
//
// KEYS[1] -> reactivator:{<run id>}:run
// KEYS[2..] -> other keys of the run to delete (at most pruneKeyBatch)
// ARGV[1] -> cutoff, unix ms
// ARGV[2] -> 1 to delete the run's hash too, after them; 0 to keep it
// Returns the number of keys deleted, -1 when the run is not finished before the cutoff, -2 when
// its hash is gone. The keys go 1,000 at a time: Lua's unpack cannot spread more than about
// 8,000 values.
var pruneKeysScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
local fin = tonumber(redis.call('HGET', KEYS[1], 'finished_at') or '0')
if fin == 0 or fin >= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'pruning', '1')
local n = 0
for i = 2, #KEYS, 1000 do
  n = n + redis.call('UNLINK', unpack(KEYS, i, math.min(i + 999, #KEYS)))
end
if ARGV[2] == '1' then n = n + redis.call('UNLINK', KEYS[1]) end
return n
`)

func (s *Store) unindex(ctx context.Context, id string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range runIndexKeys {
			p.ZRem(ctx, k, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune run %s: %w", id, err)
	}
	return nil
}

// eachRunKey calls fn, one call at a time, with every key of the runs (reactivator:{<run
// id>}:*), found by one SCAN of each master as it goes: no more than a SCAN page is held.
func (s *Store) eachRunKey(ctx context.Context, runs map[string]*PrunedRun, fn func(id, key string) error) error {
	match := keyPrefix + "{*}:*"
	if len(runs) == 1 {
		for id := range runs {
			match = keyPrefix + "{" + globEscape(id) + "}:*"
		}
	}
	var mu sync.Mutex
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, match, 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			tag, _, ok := strings.Cut(strings.TrimPrefix(k, keyPrefix+"{"), "}")
			if !ok {
				continue
			}
			mu.Lock()
			var err error
			if runs[tag] != nil {
				err = fn(tag, k)
			}
			mu.Unlock()
			if err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Ring:
		err = c.ForEachShard(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		err = fmt.Errorf("unsupported redis client %T", s.rdb)
	}
	if err != nil {
		return fmt.Errorf("prune: scan keys: %w", err)
	}
	return nil
}

// globEscape escapes SCAN MATCH's special characters.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// queuedTask is one of a run's asynq tasks still stored.
type queuedTask struct{ queue, id string }

// runTasks finds the run's asynq tasks that asynq still stores, in any state: its row tasks
// (ids <run id>:<row key>, one per row first seen, on the provider's queue) and its run:finished
// task. asynq keeps a task as the hash asynq:{<queue>}:t:<id> with a "state" field until it is
// deleted (after success, unless retained) or trimmed from the archive; the per-state lists and
// sets hold only ids. So one pipelined HGET per row of the run (a thousand per round trip) tells
// which exist, and only those are deleted, through asynq's Inspector. busy is true when one is
// being handled.
func (s *Store) runTasks(ctx context.Context, r Run) (tasks []queuedTask, busy bool, err error) {
	check := func(batch []queuedTask) error {
		cmds := make([]*redis.StringCmd, len(batch))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, t := range batch {
				cmds[i] = p.HGet(ctx, asynqTaskKey(t.queue, t.id), "state")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, c := range cmds {
			switch st := c.Val(); st {
			case "":
			case "active":
				busy = true
			default:
				tasks = append(tasks, batch[i])
			}
		}
		return nil
	}
	batch := []queuedTask{{QueueControl, "finished:" + r.ID}}
	q := r.Provider.Queue()
	err = s.eachSeenKey(ctx, r.ID, func(keys []string) error {
		for _, k := range keys {
			batch = append(batch, queuedTask{q, r.ID + ":" + k})
		}
		if len(batch) >= 1000 {
			if err := check(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		return nil
	})
	if err == nil {
		err = check(batch)
	}
	if err != nil {
		return nil, false, fmt.Errorf("prune run %s: %w", r.ID, err)
	}
	return tasks, busy, nil
}

// asynqTaskKey is the key asynq keeps a task's hash in (asynq's internal/base.TaskKey).
func asynqTaskKey(queue, id string) string { return "asynq:{" + queue + "}:t:" + id }

// deleteTasks deletes the tasks with asynq's Inspector, a few at once. A task gone meanwhile (it
// ran) is not an error; one that turned active makes busy true.
func (s *Store) deleteTasks(ctx context.Context, insp *asynq.Inspector, tasks []queuedTask) (deleted int, busy bool, err error) {
	state := func(t queuedTask) string { return s.rdb.HGet(ctx, asynqTaskKey(t.queue, t.id), "state").Val() }
	const workers = 8
	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan queuedTask)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range ch {
				e := insp.DeleteTask(t.queue, t.id)
				active := e != nil && state(t) == "active"
				mu.Lock()
				switch {
				case e == nil:
					deleted++
				case errors.Is(e, asynq.ErrTaskNotFound), errors.Is(e, asynq.ErrQueueNotFound):
				case active:
					// asynq refuses to delete a task being handled.
					busy = true
				default:
					if err == nil {
						err = fmt.Errorf("delete task %s of queue %s: %w", t.id, t.queue, e)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range tasks {
		ch <- t
	}
	close(ch)
	wg.Wait()
	return deleted, busy, err
}

// eachSeenKey calls fn with the row keys (Row.Key, hex) of a run's dedupe buckets, which keep
// them as bytes: the keys of the rows first seen, so of every task the run can have. 64 buckets
// per round trip.
func (s *Store) eachSeenKey(ctx context.Context, runID string, fn func(keys []string) error) error {
	sb, err := s.rdb.HGet(ctx, runKey(runID), "sb").Int()
	if errors.Is(err, redis.Nil) {
		return nil // no row was ever added
	}
	if err != nil {
		return fmt.Errorf("read the dedupe buckets of run %s: %w", runID, err)
	}
	const group = 64
	for start := 0; start < sb; start += group {
		cmds := make([]*redis.StringSliceCmd, 0, group)
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := start; b < min(sb, start+group); b++ {
				cmds = append(cmds, p.HKeys(ctx, runPrefix(runID)+"seen:"+strconv.Itoa(b)))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the dedupe buckets of run %s: %w", runID, err)
		}
		var keys []string
		for _, c := range cmds {
			for _, k := range c.Val() {
				keys = append(keys, hex.EncodeToString([]byte(k)))
			}
		}
		if err := fn(keys); err != nil {
			return err
		}
	}
	return nil
}
