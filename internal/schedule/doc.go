// Package schedule runs reactivator's cron schedules: it owns the schedules file (Config, Parse),
// the leadership that keeps one scheduler active among many (Elector), the Scheduler that queues
// each schedule's inbox pick-ups while it leads, and the worker's half (WorkerHandlers) that
// picks the files up and writes the finished runs' reports.
package schedule
