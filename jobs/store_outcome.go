// This file holds how the run store keeps a row's outcome: a short text in the hash of the row's
// bucket of 64 lines, small enough for Redis's compact listpack encoding, and the one Lua
// function that records it.

package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OutcomeRecord is a row's recorded outcome.
type OutcomeRecord struct {
	Outcome    Outcome   `json:"o"`
	Reason     string    `json:"r,omitempty"`
	HTTPStatus int       `json:"s,omitempty"`
	RequestID  string    `json:"q,omitempty"`
	Attempts   int       `json:"a,omitempty"`
	FinishedAt time.Time `json:"-"`
	Finished   int64     `json:"t,omitempty"`
	Message    string    `json:"m,omitempty"`
	// ResolvedID is the member (Stytch) or user (ZITADEL) id the lookup of a row without an id
	// found, and ResolvedOrg the organisation it lives in; reports show them in the id columns.
	// A record with them is kept as JSON.
	ResolvedID  string `json:"id,omitempty"`
	ResolvedOrg string `json:"og,omitempty"`
}

// outcomeCodes are the one-letter codes of the outcomes in a stored record.
var outcomeCodes = map[Outcome]byte{
	Reactivated: 'R', Deactivated: 'E', NotActive: 'A', NotDeactivated: 'N', UnverifiedEmail: 'U',
	NotFound: 'F', Rejected: 'J', Failed: 'X', Invalid: 'I', Duplicate: 'D', Cancelled: 'C',
}

// usualStatus is the HTTP status an outcome's record leaves out: 200 for the changes the
// providers confirm, 0 (no call) for the rest.
func usualStatus(o Outcome) int {
	if o == Reactivated || o == Deactivated {
		return 200
	}
	return 0
}

// maxStoredOutcome is the longest record kept in the bucket's hash: Redis keeps a hash as a
// listpack while every value is at most hash-max-listpack-value bytes (64 by default), and a
// single longer value turns the whole bucket into a hash table, about 60 bytes more a row. A
// longer record (a long provider message, say) goes to the run's overflow hash instead.
const maxStoredOutcome = 64

// encode returns the record as the run store keeps it, without its time:
//
//	<code><HTTP status>|<attempts>|<request id>|<reason>|<message>
//
// code is the outcome's letter (outcomeCodes); the outcome's usual status (usualStatus) and zero
// attempts are left empty (another status is written, 0 included), and so are the empty fields
// at the end, with their bars (a reactivated row with a 200: "R|1|<request id>").
// The message comes last, so it may hold bars. A request id or reason with a bar, an outcome
// without a code, or a record with the id a lookup found, is kept as JSON instead ({"o":…}). The scripts that record it put the time in
// front: the whole seconds from the run's creation to the outcome (luaRecord's stamp). About 30
// bytes a row, where the JSON of OutcomeRecord took about 80.
func (o OutcomeRecord) encode() string {
	code, ok := outcomeCodes[o.Outcome]
	if !ok || strings.Contains(o.RequestID, "|") || strings.Contains(o.Reason, "|") || o.ResolvedID != "" {
		o.FinishedAt, o.Finished = time.Time{}, 0
		b, _ := json.Marshal(o)
		return string(b)
	}
	status := strconv.Itoa(o.HTTPStatus)
	if o.HTTPStatus == usualStatus(o.Outcome) {
		status = ""
	}
	attempts := ""
	if o.Attempts != 0 {
		attempts = strconv.Itoa(o.Attempts)
	}
	fields := []string{string(code) + status, attempts, o.RequestID, o.Reason, o.Message}
	for len(fields) > 1 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return strings.Join(fields, "|")
}

// decodeOutcome reads a stored record (encode, with the stamp in front) of a run created at
// created.
func decodeOutcome(s string, created time.Time) (OutcomeRecord, error) {
	var o OutcomeRecord
	i := 0
	for i < len(s) && (s[i] == '-' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	secs, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || i == len(s) {
		return o, fmt.Errorf("stored outcome %q: no time", s)
	}
	base := int64(0)
	if !created.IsZero() {
		base = created.Unix()
	}
	o.FinishedAt = time.Unix(base+secs, 0).UTC()
	rest := s[i:]
	if rest[0] == '{' {
		err := json.Unmarshal([]byte(rest), &o)
		return o, err
	}
	for out, c := range outcomeCodes {
		if c == rest[0] {
			o.Outcome = out
		}
	}
	if o.Outcome == "" {
		return o, fmt.Errorf("stored outcome %q: unknown code", s)
	}
	fields := strings.SplitN(rest[1:], "|", 5)
	fields = append(fields, make([]string, 5-len(fields))...)
	o.HTTPStatus = usualStatus(o.Outcome)
	if fields[0] != "" {
		if o.HTTPStatus, err = strconv.Atoi(fields[0]); err != nil {
			return o, fmt.Errorf("stored outcome %q: status: %w", s, err)
		}
	}
	if fields[1] != "" {
		if o.Attempts, err = strconv.Atoi(fields[1]); err != nil {
			return o, fmt.Errorf("stored outcome %q: attempts: %w", s, err)
		}
	}
	o.RequestID, o.Reason, o.Message = fields[2], fields[3], fields[4]
	return o, nil
}

// overflowMark is what a bucket holds for a record kept in the run's overflow hash.
const overflowMark = "~"

// luaRecord is the one place an outcome is recorded; scripts that end rows include it. Every key
// it touches is derived from the run's key reactivator:{R}:run, so it shares the run's hash tag.
//
// outkey(run, line) is the key of line's bucket of outcomes, reactivator:{R}:out:<n>, and
// field(line) line's field in it and in its bucket of rows: its place in the bucket, 0 to 63.
// record(run, line, outcome, rec, now, active) records rec (encode's text; the stamp goes in
// front) as line's outcome unless the line has one (a record longer than maxStoredOutcome goes to
// reactivator:{R}:outx, the bucket holding overflowMark), drops the line's attempt fields, counts the
// outcome (active: a not_deactivated row found already active, counted apart in the timeline)
// and finishes the run when it was the last row. It returns 1 when the run finished, 0 when
// not, -1 when the row already had an outcome.
// finish_if_done(run, now[, done]) sets finished_at when every row of a complete run has its
// outcome, and returns 1 then, 0 otherwise; done, when given, is the run's count of rows done.
const luaRecord = luaTick + `
local function finish_if_done(run, now, done)
  local total = tonumber(redis.call('HGET', run, 'total') or '-1')
  done = done or tonumber(redis.call('HGET', run, 'done') or '0')
  if total >= 0 and done >= total and redis.call('HSETNX', run, 'finished_at', now) == 1 then
    return 1
  end
  return 0
end
local function outkey(run, line)
  return string.sub(run, 1, -4) .. 'out:' .. math.floor(tonumber(line) / 64)
end
local function field(line)
  return string.format('%d', tonumber(line) % 64)
end
local function stamp(run, now)
  local created = tonumber(redis.call('HGET', run, 'created_at') or '0')
  return string.format('%d', math.floor(tonumber(now) / 1000) - math.floor(created / 1000))
end
local function record(run, line, outcome, rec, now, active)
  local v = stamp(run, now) .. rec
  local long = #v > 64 -- maxStoredOutcome
  local kept = v
  if long then kept = '~' end -- overflowMark
  if redis.call('HSETNX', outkey(run, line), field(line), kept) == 0 then return -1 end
  if long then redis.call('HSET', string.sub(run, 1, -4) .. 'outx', line, v) end
  redis.call('HDEL', string.sub(run, 1, -4) .. 'att', line, line .. ':s', line .. ':a')
  if active then
    tick(run, 'already_active', now)
  else
    tick(run, outcome, now)
  end
  redis.call('HINCRBY', run, 'n:' .. outcome, 1)
  local done = redis.call('HINCRBY', run, 'done', 1)
  redis.call('HSET', run, 'last_at', now)
  return finish_if_done(run, now, done)
end
`
