// Package report renders a run's report (CSV, JSON or Markdown) from the rows the run store
// streams in line order, so that memory stays flat whatever the run's size. The store
// (jobs.Store) keeps the rows; what a report is asked for and says about its run (jobs.ReportOptions,
// jobs.ReportSummary, jobs.ReportColumns) is the jobs vocabulary; this package only renders.
//
// The JSON report's shape is the type JSON, which scripts may decode.
package report
