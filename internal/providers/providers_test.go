// This file tests what a command is told when the providers it needs have no credentials.

package providers

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestWorkerCallersNoneConfigured(t *testing.T) {
	t.Parallel()
	_, err := WorkerCallers(context.Background(), Set{}, io.Discard)
	if !errors.Is(err, ErrNoneConfigured) || !strings.HasPrefix(err.Error(), "nothing to serve: no provider is configured") {
		t.Errorf("WorkerCallers(Set{}) = %v, want nothing to serve: %v", err, ErrNoneConfigured)
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	for p, want := range map[jobs.Provider]string{jobs.Stytch: "STYTCH_PROJECT_ID", jobs.Zitadel: "ZITADEL_URL"} {
		if err := NotConfigured(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NotConfigured(%s) = %v, want it to name %s", p, err, want)
		}
	}
}

func TestClientsOnly(t *testing.T) {
	t.Parallel()
	ps := Set{Stytch: &stytch.Config{ProjectID: "project-test-11111111-1111-4111-8111-111111111111", Secret: "secret-test-x"}}
	if cl, err := ps.Clients(context.Background(), jobs.Zitadel); err != nil || cl.Stytch != nil || cl.Zitadel != nil {
		t.Errorf("Clients(zitadel) = %+v, %v, want no client", cl, err)
	}
	if cl, err := ps.Clients(context.Background()); err != nil || cl.Stytch == nil || cl.Zitadel != nil {
		t.Errorf("Clients() = %+v, %v, want the Stytch client only", cl, err)
	}
}
