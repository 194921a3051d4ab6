// Package stytch is reactivator's client for Stytch B2B Reactivate Member: it refuses unusable
// rows before any call, builds the call, sends it and classifies the answer
// (docs/providers.md).
//
// The client is plain net/http rather than stytch-go: the SDK drops response headers (so
// Retry-After is invisible), loses the status of non-JSON error bodies and has no default timeout.
package stytch
