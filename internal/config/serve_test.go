// This file tests the checks of a worker's tuning.

package config

import (
	"strings"
	"testing"
	"time"
)

func TestServeValidateNamesTheFlagAtFault(t *testing.T) {
	t.Parallel()
	good := Serve{MaxRate: 200, Concurrency: 100, MaxAttempts: 12, MaxRowAge: 24 * time.Hour, ShutdownTimeout: 40 * time.Second}
	tests := []struct {
		name string
		edit func(*Serve)
		want string // "" means valid
	}{
		{"defaults", func(*Serve) {}, ""},
		{"no concurrency", func(s *Serve) { s.Concurrency = 0 }, "--concurrency"},
		{"no attempts", func(s *Serve) { s.MaxAttempts = 0 }, "--max-attempts"},
		{"no row age", func(s *Serve) { s.MaxRowAge = 0 }, "--max-row-age"},
		{"no shutdown timeout", func(s *Serve) { s.ShutdownTimeout = -time.Second }, "--shutdown-timeout"},
		{"no max rate", func(s *Serve) { s.MaxRate = 0 }, "--max-rate"},
		{"bad rate by flag", func(s *Serve) { s.Rate, s.RateFromFlag = "stytch=fast", true }, "--rate"},
		{"bad rate not by flag is not read", func(s *Serve) { s.Rate = "stytch=fast" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := good
			tt.edit(&s)
			err := s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", s, err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("Validate(%+v) = %v, want an error naming %s", s, err, tt.want)
			}
		})
	}
}

func TestLimitsReadTheEnvironmentUnlessTheFlagIsGiven(t *testing.T) {
	t.Parallel()
	env := Env(func(name string) string {
		if name == "REACTIVATOR_RATE" {
			return "stytch=7"
		}
		return ""
	})
	s := Serve{Rate: "stytch=9", MaxRate: 200, Concurrency: 1, MaxAttempts: 1, MaxRowAge: time.Hour, ShutdownTimeout: time.Second}
	for _, tt := range []struct {
		fromFlag bool
		want     float64
	}{{false, 7}, {true, 9}} {
		s.RateFromFlag = tt.fromFlag
		limits, err := env.Limits(s)
		if err != nil || limits["stytch"].PerSecond != tt.want {
			t.Errorf("Limits(RateFromFlag %v) = %v, %v; want stytch at %g", tt.fromFlag, limits, err, tt.want)
		}
	}
}
