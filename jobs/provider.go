// This file names the identity providers, their queues and the task types reactivator queues.

package jobs

import "fmt"

// Provider is an identity provider whose accounts reactivator restores.
type Provider string

// The providers reactivator knows.
const (
	Stytch  Provider = "stytch"
	Zitadel Provider = "zitadel"
)

// Providers lists every provider, in a stable order.
var Providers = []Provider{Stytch, Zitadel}

// ParseProvider returns the provider named s, or an error that lists the known ones.
func ParseProvider(s string) (Provider, error) {
	switch Provider(s) {
	case Stytch, Zitadel:
		return Provider(s), nil
	}
	return "", fmt.Errorf("unknown provider %q (want stytch or zitadel)", s)
}

// Task types. Each provider has its own reactivate task type and queue, so a fatal error on one
// provider pauses only that provider's queue.
const (
	TypeReactivateStytch  = "reactivate:stytch"
	TypeReactivateZitadel = "reactivate:zitadel"
	// TypeRunFinished is queued once when the last row of a run gets its outcome.
	TypeRunFinished = "run:finished"
	// TypeInboxPickup is queued by the scheduler to pick up the files of an inbox.
	TypeInboxPickup = "inbox:pickup"
)

// QueueControl carries run:finished and inbox:pickup tasks.
const QueueControl = "reactivator-control"

// Queue returns the asynq queue of the provider's reactivate tasks.
func (p Provider) Queue() string { return "reactivator-" + string(p) }

// TaskType returns the provider's reactivate task type.
func (p Provider) TaskType() string { return "reactivate:" + string(p) }
