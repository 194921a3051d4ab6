// This file reads the scheduler's config file (schedules.yaml) and refuses a malformed one with
// the line and field at fault.

package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"reactivator/jobs"
)

// defaultSettle is how long a file must sit unmodified in an inbox before it is picked up, unless
// a schedule says otherwise: a file still being copied in is not read half-written.
const defaultSettle = 5 * time.Second

// Config is a parsed schedules.yaml.
type Config struct {
	// Reports is the directory of finished runs' reports; "" writes none.
	Reports   string
	Schedules []Schedule
}

// Schedule is one entry of schedules.yaml: a cron spec and the pick-up each of its ticks queues.
type Schedule struct {
	Cron string
	// Pickup is the pick-up the inbox:pickup task of each tick carries: Pickup.Schedule is the
	// schedule's name, Pickup.Reports the file's reports directory, and Pickup.Settle is
	// defaultSettle unless the entry says otherwise.
	Pickup jobs.PickupSpec
	// every is the time between two ticks (the first two after now), for asynq.Unique.
	every time.Duration
	line  int
}

// UniqueFor is how long a queued pick-up of the schedule makes another one redundant: most of the
// time between two ticks, at least asynq's minimum of a second.
func (s Schedule) UniqueFor() time.Duration {
	return max(time.Second, (s.every * 9 / 10).Truncate(time.Second))
}

var (
	topFields      = []string{"reports", "schedules"}
	scheduleFields = []string{"name", "cron", "inbox", "pattern", "provider", "rate", "settle"}
)

// Load reads and checks the config file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Parse(path, b, time.Now())
}

// configErrors collects every fault of a config file, each "FILE line N: FIELD: what".
type configErrors struct {
	file string
	errs []error
}

func (c *configErrors) add(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	if line > 0 {
		c.errs = append(c.errs, fmt.Errorf("%s line %d: %s", c.file, line, msg))
	} else {
		c.errs = append(c.errs, fmt.Errorf("%s: %s", c.file, msg))
	}
}

func (c *configErrors) err() error { return errors.Join(c.errs...) }

// Parse parses a schedules.yaml named file (in messages), refusing it with every fault found,
// each with its line and field; now anchors the tick interval of each cron spec.
func Parse(file string, data []byte, now time.Time) (Config, error) {
	ce := &configErrors{file: file}
	var cfg Config
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ce.add(nil, "", "is empty: want a mapping with reports and schedules")
			return cfg, ce.err()
		}
		// yaml.v3's syntax errors already say "yaml: line N: …".
		return cfg, fmt.Errorf("%s: %w", file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		ce.add(root, "", "want a mapping with reports and schedules")
		return cfg, ce.err()
	}
	var list *yaml.Node
	eachField(ce, root, "", topFields, func(key, val *yaml.Node) {
		switch key.Value {
		case "reports":
			cfg.Reports = pathField(ce, val, "reports")
		case "schedules":
			list = val
		}
	})
	if list == nil {
		ce.add(root, "schedules", "missing: list at least one schedule")
		return cfg, ce.err()
	}
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		ce.add(list, "schedules", "want a list of at least one schedule")
		return cfg, ce.err()
	}
	names := map[string]int{}
	for i, item := range list.Content {
		s, ok := parseSchedule(ce, item, i, now)
		if !ok {
			continue
		}
		if first, dup := names[s.Pickup.Schedule]; dup {
			ce.add(item, fmt.Sprintf("schedules[%d].name", i), "%q is taken by the schedule on line %d: names must be unique", s.Pickup.Schedule, first)
			continue
		}
		names[s.Pickup.Schedule] = s.line
		cfg.Schedules = append(cfg.Schedules, s)
	}
	for i := range cfg.Schedules {
		cfg.Schedules[i].Pickup.Reports = cfg.Reports
	}
	return cfg, ce.err()
}

// eachField calls fn for each key of mapping m, refusing unknown and repeated keys.
func eachField(ce *configErrors, m *yaml.Node, prefix string, known []string, fn func(key, val *yaml.Node)) {
	seen := map[string]bool{}
	for j := 0; j+1 < len(m.Content); j += 2 {
		key, val := m.Content[j], m.Content[j+1]
		name := prefix + key.Value
		switch {
		case !slices.Contains(known, key.Value):
			ce.add(key, name, "unknown field (want %s)", strings.Join(known, ", "))
		case seen[key.Value]:
			ce.add(key, name, "given twice")
		default:
			seen[key.Value] = true
			fn(key, val)
		}
	}
}

func parseSchedule(ce *configErrors, item *yaml.Node, i int, now time.Time) (Schedule, bool) {
	at := func(f string) string { return fmt.Sprintf("schedules[%d].%s", i, f) }
	if item.Kind != yaml.MappingNode {
		ce.add(item, fmt.Sprintf("schedules[%d]", i), "want a mapping with name, cron and inbox")
		return Schedule{}, false
	}
	before := len(ce.errs)
	s := Schedule{line: item.Line, Pickup: jobs.PickupSpec{Settle: defaultSettle}}
	got := map[string]bool{}
	eachField(ce, item, fmt.Sprintf("schedules[%d].", i), scheduleFields, func(key, val *yaml.Node) {
		got[key.Value] = true
		f := at(key.Value)
		switch key.Value {
		case "name":
			s.Pickup.Schedule = stringField(ce, val, f)
			if s.Pickup.Schedule != "" && strings.ContainsAny(s.Pickup.Schedule, " \t\r\n") {
				ce.add(val, f, "%q: want a name without spaces, e.g. nightly-zitadel", s.Pickup.Schedule)
			}
		case "cron":
			s.Cron = stringField(ce, val, f)
			if s.Cron != "" {
				every, err := cronInterval(s.Cron, now)
				if err != nil {
					ce.add(val, f, "%q: %v (want 5 fields \"min hour day month weekday\", e.g. \"0 3 * * *\", or \"@every 30s\", \"@hourly\")", s.Cron, err)
				}
				s.every = every
			}
		case "inbox":
			s.Pickup.Inbox = pathField(ce, val, f)
		case "pattern":
			s.Pickup.Pattern = stringField(ce, val, f)
			if _, err := filepath.Match(s.Pickup.Pattern, "x.csv"); err != nil || strings.Contains(s.Pickup.Pattern, "/") {
				ce.add(val, f, "%q: want a file name pattern such as *.csv", s.Pickup.Pattern)
			}
		case "provider":
			p, err := jobs.ParseProvider(stringField(ce, val, f))
			if err != nil {
				ce.add(val, f, "%v", err)
			}
			s.Pickup.Provider = p
		case "rate":
			r, err := strconv.ParseFloat(val.Value, 64)
			if val.Kind != yaml.ScalarNode || err != nil || r <= 0 {
				ce.add(val, f, "%q: want a positive number of requests per second, e.g. 40", val.Value)
			}
			s.Pickup.Rate = r
		case "settle":
			d, err := time.ParseDuration(val.Value)
			if val.Kind != yaml.ScalarNode || err != nil || d < 0 {
				ce.add(val, f, "%q: want a duration such as 5s (0s picks files up at once)", val.Value)
			}
			s.Pickup.Settle = d
		}
	})
	for _, req := range []string{"name", "cron", "inbox"} {
		if !got[req] {
			ce.add(item, at(req), "missing: every schedule needs name, cron and inbox")
		}
	}
	return s, len(ce.errs) == before
}

// stringField returns a scalar's value, or records that f wants a non-empty string.
func stringField(ce *configErrors, val *yaml.Node, f string) string {
	if val.Kind != yaml.ScalarNode || val.Tag == "!!null" || strings.TrimSpace(val.Value) == "" {
		ce.add(val, f, "want a non-empty string")
		return ""
	}
	return strings.TrimSpace(val.Value)
}

// pathField returns an absolute directory path: workers read it, perhaps on other machines, so a
// relative one would mean different places.
func pathField(ce *configErrors, val *yaml.Node, f string) string {
	p := stringField(ce, val, f)
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) {
		ce.add(val, f, "%q: want an absolute path (workers read it, maybe on another machine)", p)
		return ""
	}
	return filepath.Clean(p)
}

// cronInterval checks a cron spec with the parser asynq's Scheduler uses and returns the time
// between its next two ticks after now.
func cronInterval(spec string, now time.Time) (time.Duration, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return 0, err
	}
	t1 := sched.Next(now)
	t2 := sched.Next(t1)
	if t1.IsZero() || t2.IsZero() {
		return 0, errors.New("never fires")
	}
	return t2.Sub(t1), nil
}
