// Package discover finds the accounts to restore, read-only: ZITADEL's inactive users (with who
// deactivated them and when, from the events API) and Stytch's deleted members, and writes them
// as a CSV that reactivator's ingest reads as input.
//
// Each provider has a Query (its filters, Validate) and a function that runs it through a
// Caller, an authenticated HTTP client of the provider (worker/zitadel.Client and
// worker/stytch.Client are). Request bodies are built in one place per endpoint, because both
// providers silently ignore a misspelt field.
package discover

import "context"

// Caller makes one authenticated call to a provider: path is relative to its base URL, body is
// JSON (nil sends none). It returns the answer's status and body, or an error when no answer came.
type Caller interface {
	Call(ctx context.Context, method, path string, body []byte) (int, []byte, error)
}
