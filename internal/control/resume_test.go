// This file tests Resume and CheckResume: Resume unpauses the one provider it names, in the run
// store and in asynq, and says what the pause was; CheckResume refuses while the provider still
// refuses the credentials (exit 4), over real HTTP against internal/fakeidp.

package control

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"reactivator/internal/exitcode"
	"reactivator/internal/fakeidp"
	"reactivator/internal/providers"
	"reactivator/internal/status"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// pauseQueue makes provider p's asynq queue exist (one task on it) and pauses it, as a worker
// does on a fatal answer.
func (w *world) pauseQueue(p jobs.Provider) {
	w.t.Helper()
	if _, err := w.cl.Enqueue(asynq.NewTask(p.TaskType(), []byte("{}")), asynq.Queue(p.Queue())); err != nil {
		w.t.Fatal(err)
	}
	if err := w.insp.PauseQueue(p.Queue()); err != nil {
		w.t.Fatal(err)
	}
}

// queuePaused says whether p's asynq queue is paused.
func (w *world) queuePaused(p jobs.Provider) bool {
	w.t.Helper()
	qi, err := w.insp.GetQueueInfo(p.Queue())
	if err != nil {
		w.t.Fatal(err)
	}
	return qi.Paused
}

// Resume unpauses the provider it names, in the store and in asynq, clears the notes of that
// provider's open runs and says what the pause was; the other provider stays paused.
func TestResumeUnpausesOnlyTheProvider(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const zrun, srun = "zitadel-pa05ed000001", "stytch-pa05ed000002"
	w.newRun(zrun, lines(2), true)
	if _, _, err := w.store.CreateRun(w.ctx, jobs.Run{ID: srun, Provider: jobs.Stytch, File: "s.csv"}); err != nil {
		t.Fatal(err)
	}
	const reason = "HTTP 401 unauthenticated (AUTH-7fs1e)"
	for _, p := range []jobs.Pause{
		{Provider: jobs.Zitadel, Reason: reason, RunID: zrun, Line: 3, At: t0},
		{Provider: jobs.Stytch, Reason: "HTTP 401 unauthorized_credentials", RunID: srun, Line: 2, At: t0},
	} {
		if err := w.store.SetPaused(w.ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := w.store.SetNote(w.ctx, p.RunID, string(p.Provider)+" is paused"); err != nil {
			t.Fatal(err)
		}
		w.pauseQueue(p.Provider)
	}

	var out strings.Builder
	if err := Resume(w.ctx, w.rdb, jobs.Zitadel, &out); err != nil {
		t.Fatalf("Resume = %v", err)
	}
	want := "resumed zitadel: it was paused since " + status.TimeText(t0) + " by run " + zrun + " line 3: " + reason + "\n" +
		"the workers pick up its rows within a second; follow them: reactivator status --watch\n"
	if out.String() != want {
		t.Errorf("Resume =\n%q\nwant\n%q", out.String(), want)
	}
	paused, err := w.store.Paused(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := paused[jobs.Zitadel]; ok || len(paused) != 1 {
		t.Errorf("paused after Resume(zitadel) = %v, want stytch only", paused)
	}
	if w.queuePaused(jobs.Zitadel) || !w.queuePaused(jobs.Stytch) {
		t.Errorf("asynq queues paused after Resume(zitadel): zitadel %v, stytch %v; want false, true",
			w.queuePaused(jobs.Zitadel), w.queuePaused(jobs.Stytch))
	}
	if n := w.runOf(zrun).Note; n != "" {
		t.Errorf("note of the zitadel run after Resume = %q, want none", n)
	}
	if n := w.runOf(srun).Note; n != "stytch is paused" {
		t.Errorf("note of the stytch run after Resume(zitadel) = %q, want it kept", n)
	}
}

// Resume of a provider the store does not hold paused says so and is no error; a queue left
// paused in asynq is unpaused all the same (the store's pause is the truth). A pause without a
// run says no run.
func TestResumeOfAProviderNotPaused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.pauseQueue(jobs.Zitadel) // asynq's mirror only
	if err := w.store.SetPaused(w.ctx, jobs.Pause{Provider: jobs.Stytch, Reason: "HTTP 403", At: t0}); err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	err := Resume(w.ctx, w.rdb, jobs.Zitadel, &out)
	if err != nil || exitcode.Of(w.ctx, err) != exitcode.OK {
		t.Fatalf("Resume of a provider not paused = %v, want nil", err)
	}
	if want := "zitadel was not paused: nothing to resume\n"; out.String() != want {
		t.Errorf("Resume = %q, want %q", out.String(), want)
	}
	if w.queuePaused(jobs.Zitadel) {
		t.Errorf("zitadel's asynq queue is still paused")
	}
	if _, ok, err := w.store.PauseOf(w.ctx, jobs.Stytch); err != nil || !ok {
		t.Errorf("stytch's pause after Resume(zitadel) = %v, %v; want it kept", ok, err)
	}

	out.Reset()
	if err := Resume(w.ctx, w.rdb, jobs.Stytch, &out); err != nil {
		t.Fatal(err)
	}
	if want := "resumed stytch: it was paused since " + status.TimeText(t0) + ": HTTP 403\n"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("Resume(stytch) = %q, want it to begin %q", out.String(), want)
	}
	if _, ok, _ := w.store.PauseOf(w.ctx, jobs.Stytch); ok {
		t.Errorf("stytch is still paused after Resume(stytch)")
	}
}

// CheckResume checks nothing without credentials for the provider, passes credentials the
// provider accepts, and refuses, saying the provider stays paused, credentials it refuses (exit
// 4) or a provider it cannot reach (exit 1). An interruption is not dressed as a refusal.
func TestCheckResume(t *testing.T) {
	t.Parallel()
	const token, org = "zitadel-pat-control-test-0123456789", "200000000000000001"
	z := fakeidp.NewZitadel("")
	z.AddToken(token, org)
	url, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	deadURL, deadStop := fakeidp.Serve(fakeidp.NewZitadel(""))
	deadStop()
	set := func(base, tok string) providers.Set {
		return providers.Set{Zitadel: &zitadel.Config{BaseURL: base, Token: tok}}
	}
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name     string
		ctx      context.Context
		ps       providers.Set
		code     int
		wantErr  string // in the error; "" for none
		wantLine string // in what it writes
	}{
		{"no credentials here", live, providers.Set{}, exitcode.OK, "", "zitadel: no credentials on this machine, not checked"},
		{"accepted", live, set(url, token), exitcode.OK, "", "zitadel: ok ("},
		{"refused", live, set(url, "zitadel-pat-revoked-or-never-issued"), exitcode.Fatal, "zitadel stays paused; fix the cause first", "zitadel: credentials refused"},
		{"unreachable", live, set(deadURL, token), exitcode.Error, "zitadel stays paused; fix the cause first", "zitadel: not reachable"},
		{"interrupted", ended, set(url, token), exitcode.Interrupted, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := CheckResume(tc.ctx, tc.ps, jobs.Zitadel, &out)
			if code := exitcode.Of(tc.ctx, err); code != tc.code {
				t.Fatalf("CheckResume = %v (exit %d), want exit %d", err, code, tc.code)
			}
			if tc.wantErr != "" {
				contains(t, "CheckResume error", err.Error(), tc.wantErr)
			}
			if tc.code == exitcode.Interrupted && (!errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "stays paused")) {
				t.Errorf("CheckResume interrupted = %v, want context.Canceled, not a refusal", err)
			}
			if tc.wantLine != "" {
				contains(t, "CheckResume output", out.String(), tc.wantLine)
			}
		})
	}
}
