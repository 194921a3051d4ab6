package config

import (
	"fmt"
	"strconv"
	"strings"

	"reactivator/ingest"
	"reactivator/jobs"
	"reactivator/worker"
)

// DefaultRates are docs/design.md's: under Stytch's published 65/s for write endpoints and
// ZITADEL Cloud's 50/s per IP.
var DefaultRates = map[jobs.Provider]worker.Limit{
	jobs.Stytch:  {PerSecond: 50},
	jobs.Zitadel: {PerSecond: 40},
}

// ParseRates reads "stytch=50,zitadel=40" (or "stytch=auto"), over the defaults. maxRate caps
// auto.
func ParseRates(spec string, maxRate float64) (map[jobs.Provider]worker.Limit, error) {
	out := map[jobs.Provider]worker.Limit{}
	for p, l := range DefaultRates {
		out[p] = l
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("--rate %q: want provider=requests-per-second, e.g. stytch=50,zitadel=40", part)
		}
		p, err := jobs.ParseProvider(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		val = strings.TrimSpace(val)
		if val == "auto" {
			out[p] = worker.Limit{PerSecond: 5, Auto: true, MaxRate: maxRate}
			continue
		}
		n, err := strconv.ParseFloat(val, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--rate %s=%s: want a number of requests per second (0 = unlimited) or auto", name, val)
		}
		out[p] = worker.Limit{PerSecond: n}
	}
	return out, nil
}

// Rates returns the providers' rate limits: flag when fromFlag says --rate was given, else
// REACTIVATOR_RATE, over the defaults. An error of the variable's names it.
func (e Env) Rates(flag string, fromFlag bool, maxRate float64) (map[jobs.Provider]worker.Limit, error) {
	if fromFlag {
		return ParseRates(flag, maxRate)
	}
	limits, err := ParseRates(e.First("", "REACTIVATOR_RATE"), maxRate)
	if err != nil {
		return nil, fmt.Errorf("REACTIVATOR_RATE: %w", err)
	}
	return limits, nil
}

// ParseDelimiter reads --delimiter: ',', ';' or tab; "" or auto detects it.
func ParseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return 0, nil
	case ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	case "tab", "\t", `\t`:
		return '\t', nil
	}
	return 0, fmt.Errorf("--delimiter %q: want ',', ';' or tab", s)
}

// FileOptions are the reader's options from --provider ("" reads it from the header) and
// --delimiter.
func FileOptions(provider, delimiter string) (ingest.Options, error) {
	var o ingest.Options
	if provider != "" {
		p, err := jobs.ParseProvider(strings.ToLower(provider))
		if err != nil {
			return o, fmt.Errorf("--provider: %v", err)
		}
		o.Provider = p
	}
	d, err := ParseDelimiter(delimiter)
	o.Delimiter = d
	return o, err
}
