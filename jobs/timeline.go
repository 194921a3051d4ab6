// This file is responsible for a run's timeline: per-minute counts of calls and outcomes, kept
// in Redis beside the run for the dashboard's chart and its recent rate.

package jobs

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// timelineTTL is how long a run's timeline outlives its last new minute: longer than the default
// retention, so the chart of a kept run stays; a run kept longer loses its chart, nothing else.
const timelineTTL = 32 * 24 * time.Hour

func minutesKey(id string) string { return keyPrefix + "{" + id + "}:minutes" }

// luaTick counts one event in the minute of now (unix ms) in the run's timeline. The key shares
// the run key's hash tag, so scripts reach it on a Redis Cluster too.
// The expiry is timelineTTL in milliseconds (TestTimelineCountsCallsAndOutcomesPerMinute), set
// when a minute's field is new: once a minute per field rather than twice a row.
const luaTick = `
local function tick(run, field, now)
  local k = string.sub(run, 1, -4) .. 'minutes'
  if redis.call('HINCRBY', k, math.floor(tonumber(now) / 60000) .. ':' .. field, 1) == 1 then
    redis.call('PEXPIRE', k, 2764800000)
  end
end
`

// Minute is one minute of a run's timeline.
type Minute struct {
	// At is the minute's start, UTC.
	At time.Time `json:"at"`
	// Calls counts the provider calls that began in the minute, retries included.
	Calls int `json:"calls"`
	// Outcomes counts the rows that got their outcome in the minute.
	Outcomes map[Outcome]int `json:"outcomes,omitempty"`
	// AlreadyActive counts the not_deactivated rows among Outcomes whose account was found active.
	AlreadyActive int `json:"already_active,omitempty"`
}

// Tones returns the minute's outcomes summed by what they mean (ToneOf).
func (m Minute) Tones() map[Tone]int {
	t := map[Tone]int{}
	for o, n := range m.Outcomes {
		t[ToneOf(o, "")] += n
	}
	if m.AlreadyActive > 0 {
		t[ToneBad] -= m.AlreadyActive
		t[ToneGood] += m.AlreadyActive
	}
	return t
}

// Timeline returns the minutes of a run that saw a call or an outcome, oldest first. A run older
// than the timeline's expiry, or recorded before it was kept, has none.
func (s *Store) Timeline(ctx context.Context, runID string) ([]Minute, error) {
	m, err := s.rdb.HGetAll(ctx, minutesKey(runID)).Result()
	if err != nil {
		return nil, fmt.Errorf("read timeline of run %s: %w", runID, err)
	}
	byMin := map[int64]*Minute{}
	for k, v := range m {
		ms, field, ok := strings.Cut(k, ":")
		minute, err := strconv.ParseInt(ms, 10, 64)
		n, err2 := strconv.Atoi(v)
		if !ok || err != nil || err2 != nil {
			continue
		}
		x := byMin[minute]
		if x == nil {
			x = &Minute{At: time.Unix(minute*60, 0).UTC(), Outcomes: map[Outcome]int{}}
			byMin[minute] = x
		}
		switch field {
		case "calls":
			x.Calls += n
		case ReasonAlreadyActive:
			x.AlreadyActive += n
			x.Outcomes[NotDeactivated] += n
		default:
			x.Outcomes[Outcome(field)] += n
		}
	}
	out := make([]Minute, 0, len(byMin))
	for _, x := range byMin {
		out = append(out, *x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}
