// Package schedule runs reactivator's cron schedules: it owns the schedules file (Config, Parse),
// the leadership that keeps one scheduler active among many (Elector), the Scheduler that queues
// each schedule's inbox pick-ups while it leads, and the worker's half (WorkerHandlers) that
// picks the files up and writes the finished runs' reports.
//
// A pick-up is described once, by jobs.PickupSpec: each Schedule holds one, the inbox:pickup task
// of each tick carries it as its payload, and the worker's PickupHandler does it.
package schedule
