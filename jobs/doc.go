// Package jobs is reactivator's shared vocabulary: task types, queue names, payloads, task ids,
// row validation, call results and outcomes, and the run store in Redis that records them.
//
// Nobody outside this package marshals a task payload or names a Redis key of ours.
package jobs
