// Package plan previews a run, read-only: for each row of an input file it reads the account
// (in batches: ZITADEL ListUsers by up to 1,000 ids, Stytch Search Members by up to 1,000 member
// ids of one organization), and predicts the outcome a run started right now would give it, with
// the reason the worker would record (Predict, a pure function). Rows the file's run already
// finished keep their recorded outcome, because such a run resumes. Nothing is changed at the
// provider and nothing is written to Redis.
package plan
