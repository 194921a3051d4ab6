package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
)

func TestQueueBacklogFollowsAsynq(t *testing.T) {
	t.Parallel()
	srv := redistest.Shared(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr, DB: srv.NextDB()}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	s, ctx := NewStore(rdb), context.Background()
	cl := asynq.NewClient(opt)
	t.Cleanup(func() { _ = cl.Close() })
	if n, err := s.QueueBacklog(ctx, "q"); err != nil || n != 0 {
		t.Fatalf("QueueBacklog(no queue) = %d, %v; want 0", n, err)
	}
	for _, o := range [][]asynq.Option{{asynq.Queue("q")}, {asynq.Queue("q"), asynq.ProcessIn(time.Hour)}, {asynq.Queue("other")}} {
		if _, err := cl.Enqueue(asynq.NewTask("t", nil), o...); err != nil {
			t.Fatal(err)
		}
	}
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })
	qi, err := insp.GetQueueInfo("q")
	if err != nil {
		t.Fatal(err)
	}
	want := qi.Pending + qi.Active + qi.Scheduled + qi.Retry
	if n, err := s.QueueBacklog(ctx, "q"); err != nil || n != want || n != 2 {
		t.Fatalf("QueueBacklog(q) = %d, %v; want %d as asynq's inspector counts it (2)", n, err, want)
	}
}
