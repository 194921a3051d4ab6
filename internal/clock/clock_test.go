package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled ctx, 1h) = %v, want context.Canceled", err)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled ctx, 0) = %v, want context.Canceled", err)
	}
}

func TestOrAndFunc(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Or(Func(func() time.Time { return at })).Now(); !got.Equal(at) {
		t.Errorf("Or(Func).Now() = %v, want %v", got, at)
	}
	if Or(nil) != Real {
		t.Errorf("Or(nil) is not Real")
	}
}
