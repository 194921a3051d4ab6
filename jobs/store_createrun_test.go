package jobs

import (
	"sync"
	"testing"
)

// Two ingests of one file overlap (cron started the next before the last finished): both must
// see the whole run, one of them as its creator.
func TestCreateRunConcurrentSameID(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	for i := range 50 {
		id := "race-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		var wg sync.WaitGroup
		var mu sync.Mutex
		creators := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, created, err := s.CreateRun(ctx, Run{ID: id, Provider: Stytch, File: "m.csv"})
				if err != nil || r.ID != id || r.Provider != Stytch || r.Total != -1 {
					t.Errorf("CreateRun(%s) concurrently = %+v, %v; want the whole run", id, r, err)
				}
				mu.Lock()
				if created {
					creators++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if creators != 1 {
			t.Fatalf("CreateRun(%s) from 4 goroutines: %d creators, want 1", id, creators)
		}
	}
	runs, err := s.Runs(ctx)
	if err != nil || len(runs) != 50 {
		t.Errorf("Runs() = %d runs, %v; want 50 (each indexed once)", len(runs), err)
	}
}
