package worker

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: time.Second, Cap: time.Minute}
	tests := []struct {
		name       string
		n          int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
	}{
		{"first retry, top of window", 1, 0, 0.999999, 999999 * time.Microsecond},
		{"first retry, middle", 1, 0, 0.5, 500 * time.Millisecond},
		{"third retry doubles twice", 3, 0, 0.5, 2 * time.Second},
		{"capped", 20, 0, 0.5, 30 * time.Second},
		{"huge n stays capped", 500, 0, 0.5, 30 * time.Second},
		{"floor of 100ms", 1, 0, 0, 100 * time.Millisecond},
		{"retry-after longer wins", 1, 45 * time.Second, 0.5, 45 * time.Second},
		{"retry-after shorter loses", 6, time.Second, 0.5, 16 * time.Second},
		{"zero n treated as first", 0, 0, 0.5, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := b.Delay(tt.n, tt.retryAfter, tt.rnd); got != tt.want {
				t.Errorf("Delay(%d, %v, %v) = %v, want %v", tt.n, tt.retryAfter, tt.rnd, got, tt.want)
			}
		})
	}
	if got := (Backoff{}).Delay(30, 0, 0.999); got > 10*time.Minute || got < 9*time.Minute {
		t.Errorf("zero Backoff Delay(30) = %v, want just under the 10m default cap", got)
	}
}

func TestIsFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&RetryError{Reason: "503", Failure: true}, true},
		{fmt.Errorf("wrapped: %w", &RetryError{Reason: "rate budget"}), false},
		{&RetryError{Reason: "paused"}, false},
		{errors.New("redis down"), true},
	}
	for _, tt := range tests {
		if got := isFailure(tt.err); got != tt.want {
			t.Errorf("isFailure(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
