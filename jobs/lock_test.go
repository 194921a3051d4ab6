package jobs

import (
	"errors"
	"testing"
	"time"
)

func TestLockOneHolderAtATime(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	const ttl = time.Minute
	if ok, err := s.AcquireLock(ctx, "scheduler", "a", ttl); err != nil || !ok {
		t.Fatalf("AcquireLock(a) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.AcquireLock(ctx, "scheduler", "b", ttl); err != nil || ok {
		t.Fatalf("AcquireLock(b) while a holds it = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.AcquireLock(ctx, "scheduler", "a", ttl); err != nil || !ok {
		t.Fatalf("AcquireLock(a) again = %v, %v; want true, nil (a holder may retry)", ok, err)
	}
	if err := s.RenewLock(ctx, "scheduler", "a", ttl); err != nil {
		t.Fatalf("RenewLock(a) = %v, want nil", err)
	}
	if err := s.RenewLock(ctx, "scheduler", "b", ttl); !errors.Is(err, ErrLockLost) {
		t.Fatalf("RenewLock(b) = %v, want ErrLockLost", err)
	}
	if err := s.ReleaseLock(ctx, "scheduler", "b"); err != nil {
		t.Fatalf("ReleaseLock(b) = %v, want nil", err)
	}
	if h, _ := s.LockHolder(ctx, "scheduler"); h != "a" {
		t.Fatalf("LockHolder after b's release = %q, want a (b does not hold it)", h)
	}
	if err := s.ReleaseLock(ctx, "scheduler", "a"); err != nil {
		t.Fatalf("ReleaseLock(a) = %v, want nil", err)
	}
	if h, _ := s.LockHolder(ctx, "scheduler"); h != "" {
		t.Fatalf("LockHolder after a's release = %q, want free", h)
	}
	if ok, err := s.AcquireLock(ctx, "scheduler", "b", ttl); err != nil || !ok {
		t.Fatalf("AcquireLock(b) after release = %v, %v; want true, nil", ok, err)
	}
	if err := s.RenewLock(ctx, "scheduler", "a", ttl); !errors.Is(err, ErrLockLost) {
		t.Fatalf("RenewLock(a) after b took over = %v, want ErrLockLost", err)
	}
}

func TestLockExpiresForAStandby(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	if ok, err := s.AcquireLock(ctx, "scheduler", "a", 50*time.Millisecond); err != nil || !ok {
		t.Fatalf("AcquireLock(a) = %v, %v; want true, nil", ok, err)
	}
	// The holder dies without releasing: a standby polling gets the lock once it expires.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := s.AcquireLock(ctx, "scheduler", "b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("AcquireLock(b) never succeeded after a's lock expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.RenewLock(ctx, "scheduler", "a", time.Minute); !errors.Is(err, ErrLockLost) {
		t.Fatalf("RenewLock(a) after expiry = %v, want ErrLockLost", err)
	}
}

func TestLockRefusesBadArguments(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	for _, tc := range []struct {
		name, lock, token string
		ttl               time.Duration
	}{
		{"empty name", "", "a", time.Second},
		{"name with space", "a b", "a", time.Second},
		{"empty token", "scheduler", "", time.Second},
		{"zero ttl", "scheduler", "a", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if ok, err := s.AcquireLock(ctx, tc.lock, tc.token, tc.ttl); err == nil || ok {
				t.Errorf("AcquireLock(%q, %q, %s) = %v, %v; want an error", tc.lock, tc.token, tc.ttl, ok, err)
			}
		})
	}
}
