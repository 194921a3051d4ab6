// This file renders the runs page, the run page, report downloads and the resume action.
package dash

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"reactivator/jobs"
)

//go:embed templates/*.html
var templateFS embed.FS

// staticFS holds static/style.css, served at /static/style.css.
//
//go:embed static
var staticFS embed.FS

// maxFailures is how many failures the run page lists; the reports have them all.
const maxFailures = 200

// defaultRefresh is how often a page with a run in progress reloads itself.
const defaultRefresh = 5 * time.Second

// refreshSeconds is the meta refresh of a page that shows a run in progress; 0 for none.
func (h *Handler) refreshSeconds() int {
	if h.cfg.Refresh < 0 {
		return 0
	}
	return max(1, int(h.cfg.Refresh.Round(time.Second)/time.Second))
}

type pages struct {
	runs, run, errPage *template.Template
}

func newPages() (*pages, error) {
	funcs := template.FuncMap{"runURL": runURL, "when": when}
	parse := func(name string) (*template.Template, error) {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("dash: parse %s: %w", name, err)
		}
		return t, nil
	}
	var p pages
	var err error
	if p.runs, err = parse("runs.html"); err != nil {
		return nil, err
	}
	if p.run, err = parse("run.html"); err != nil {
		return nil, err
	}
	if p.errPage, err = parse("error.html"); err != nil {
		return nil, err
	}
	return &p, nil
}

// runURL is the path of a run's page; run ids are path-escaped, whatever they hold.
func runURL(id string) string { return "/runs/" + url.PathEscape(id) }

// when formats a time for a table cell, "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// layout is what every page's frame needs.
type layout struct {
	Title string
	// Refresh is the number of seconds after which the page reloads itself; 0 never.
	Refresh int
	Monitor string
}

// countView is one outcome's count in a run.
type countView struct {
	Outcome jobs.Outcome
	N       int
	// Kind is ok, skip or fail: the badge's colour.
	Kind   string
	Advice string
}

// runView is a run as the pages show it.
type runView struct {
	jobs.Run
	URL     string
	Pending int
	// Percent is the share of rows with an outcome, as the bar's Segments split it.
	Percent  string
	Segments []segment
	Counts   []countView
	Failures int
	Rate     string
	Status   string
	Duration string
}

// segment is one coloured stretch of a progress bar, in percent of the run's rows.
type segment struct{ Kind, X, W string }

func viewRun(r jobs.Run) runView {
	v := runView{Run: r, URL: runURL(r.ID), Failures: r.Failures()}
	if r.Total > r.Done {
		v.Pending = r.Total - r.Done
	}
	var ok, skip int
	for _, o := range jobs.Outcomes {
		n := r.Counts[o]
		if n == 0 {
			continue
		}
		kind := "fail"
		switch {
		case o == jobs.Reactivated:
			kind, ok = "ok", ok+n
		case !o.Permanent():
			kind, skip = "skip", skip+n
		}
		v.Counts = append(v.Counts, countView{Outcome: o, N: n, Kind: kind, Advice: o.Advice()})
	}
	v.Percent = "0"
	switch {
	case r.Total == 0:
		v.Percent = "100"
	case r.Total > 0:
		share := func(n int) float64 { return 100 * float64(n) / float64(r.Total) }
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
		v.Percent = strconv.FormatFloat(share(r.Done), 'f', 0, 64)
		x := 0.0
		for _, s := range []struct {
			kind string
			n    int
		}{{"ok", ok}, {"skip", skip}, {"fail", v.Failures}} {
			if s.n > 0 {
				v.Segments = append(v.Segments, segment{Kind: s.kind, X: f(x), W: f(share(s.n))})
				x += share(s.n)
			}
		}
	}
	if rate := r.Rate(); rate > 0 {
		v.Rate = strconv.FormatFloat(rate, 'f', 1, 64) + "/s"
	}
	if !r.FirstCallAt.IsZero() && r.LastOutcomeAt.After(r.FirstCallAt) {
		if d := r.LastOutcomeAt.Sub(r.FirstCallAt); d < time.Second {
			v.Duration = "under 1s"
		} else {
			v.Duration = d.Round(time.Second).String()
		}
	}
	switch {
	case r.State == jobs.RunFinished && r.Cancelled:
		v.Status = "cancelled"
	case r.State == jobs.RunFinished:
		v.Status = "finished"
	case r.Note != "":
		v.Status = "held"
	case r.Cancelled:
		v.Status = "cancelling"
	default:
		v.Status = string(r.State)
	}
	return v
}

// pauseView is a paused provider.
type pauseView struct {
	jobs.Pause
	Since     string
	RunURL    string
	CanResume bool
}

func (h *Handler) pausedViews(r *http.Request) ([]pauseView, error) {
	paused, err := h.cfg.Store.Paused(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]pauseView, 0, len(paused))
	for p, info := range paused {
		info.Provider = p
		v := pauseView{Pause: info, Since: when(info.At), CanResume: h.cfg.Resume != nil}
		if info.RunID != "" {
			v.RunURL = runURL(info.RunID)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

type runsData struct {
	layout
	Runs   []runView
	Paused []pauseView
	// Resumed names the provider a resume just unpaused.
	Resumed string
}

func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request) {
	runs, err := h.cfg.Store.Runs(r.Context())
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "cannot read the runs from Redis", err)
		return
	}
	paused, err := h.pausedViews(r)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "cannot read the paused providers from Redis", err)
		return
	}
	d := runsData{layout: layout{Title: "Runs", Monitor: monitorPath + "/"}, Paused: paused}
	if p, err := jobs.ParseProvider(r.URL.Query().Get("resumed")); err == nil {
		d.Resumed = string(p)
	}
	for _, run := range runs {
		v := viewRun(run)
		if run.State != jobs.RunFinished {
			d.Refresh = h.refreshSeconds()
		}
		d.Runs = append(d.Runs, v)
	}
	if len(paused) > 0 {
		d.Refresh = h.refreshSeconds()
	}
	h.render(w, r, h.pages.runs, d)
}

// failureView is one row of the run page's failure table.
type failureView struct {
	Line       int
	IDs        []idView
	Outcome    jobs.Outcome
	Reason     string
	HTTPStatus int
	Attempts   int
	Message    string
	Finished   string
}

type idView struct{ Name, Value string }

// idColumns names the first three input cells (jobs.ReportRow.Input).
var idColumns = []string{"organization_id", "member_id", "user_id"}

type runData struct {
	layout
	Run      runView
	Paused   *pauseView
	Failures []failureView
	// More is true when the run has more failures than the page lists.
	More      bool
	Downloads []download
	QueueURL  string
}

type download struct{ Label, URL string }

// errEnough stops EachRow once the page has its failures.
var errEnough = errors.New("enough failures")

func (h *Handler) runPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	run, err := h.cfg.Store.Run(r.Context(), id)
	if errors.Is(err, jobs.ErrRunNotFound) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("no run %q: it may have been ingested on another Redis", id), nil)
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "cannot read the run from Redis", err)
		return
	}
	d := runData{
		layout: layout{Title: "Run " + run.ID, Monitor: monitorPath + "/"},
		Run:    viewRun(run),
		QueueURL: monitorPath + "/queues/" + url.PathEscape(run.Provider.Queue()) +
			"?status=archived",
	}
	if run.State != jobs.RunFinished {
		d.Refresh = h.refreshSeconds()
	}
	base := runURL(run.ID)
	d.Downloads = []download{
		{"CSV", base + "/report.csv"}, {"JSON", base + "/report.json"}, {"Markdown", base + "/report.md"},
		{"Failures only (CSV, ready to ingest again)", base + "/report.csv?failed_only=1"},
	}
	paused, err := h.pausedViews(r)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "cannot read the paused providers from Redis", err)
		return
	}
	for i := range paused {
		if paused[i].Provider == run.Provider {
			d.Paused = &paused[i]
		}
	}
	if run.Failures() > 0 {
		err = h.cfg.Store.EachRow(r.Context(), run.ID, func(row jobs.ReportRow) error {
			if row.Pending || !row.Outcome.Outcome.Permanent() {
				return nil
			}
			if len(d.Failures) == maxFailures {
				d.More = true
				return errEnough
			}
			f := failureView{
				Line: row.Line, Outcome: row.Outcome.Outcome, Reason: row.Outcome.Reason,
				HTTPStatus: row.Outcome.HTTPStatus, Attempts: row.Outcome.Attempts, Message: row.Outcome.Message,
				Finished: when(row.Outcome.FinishedAt),
			}
			for i, name := range idColumns {
				if i < len(row.Input) && row.Input[i] != "" {
					f.IDs = append(f.IDs, idView{Name: name, Value: row.Input[i]})
				}
			}
			d.Failures = append(d.Failures, f)
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			h.fail(w, r, http.StatusServiceUnavailable, "cannot read the run's rows from Redis", err)
			return
		}
	}
	h.render(w, r, h.pages.run, d)
}

// reportTypes maps a download's file name to its format and content type.
var reportTypes = map[string]struct {
	format jobs.ReportFormat
	ctype  string
}{
	"report.csv":  {jobs.ReportCSV, "text/csv; charset=utf-8"},
	"report.json": {jobs.ReportJSON, "application/json"},
	"report.md":   {jobs.ReportMarkdown, "text/markdown; charset=utf-8"},
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	rt, ok := reportTypes[file]
	if !ok {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("no such report %q: want report.csv, report.json or report.md", file), nil)
		return
	}
	if _, err := h.cfg.Store.Run(r.Context(), id); errors.Is(err, jobs.ErrRunNotFound) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("no run %q", id), nil)
		return
	} else if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "cannot read the run from Redis", err)
		return
	}
	failedOnly := false
	switch v := r.URL.Query().Get("failed_only"); v {
	case "", "0", "false":
	case "1", "true":
		failedOnly = true
	default:
		h.fail(w, r, http.StatusBadRequest, fmt.Sprintf("failed_only=%q: want 1 or 0", v), nil)
		return
	}
	name := id
	if failedOnly {
		name += ".failed"
	}
	name += "." + file
	w.Header().Set("Content-Type", rt.ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	if _, err := h.cfg.Store.WriteReport(r.Context(), w, id, jobs.ReportOptions{Format: rt.format, FailedOnly: failedOnly}); err != nil {
		// The status line is gone; the cut-off body is all the client sees.
		h.log.Error("dashboard: write report", "run", id, "format", rt.format, "err", err)
	}
}

func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	p, err := jobs.ParseProvider(r.PathValue("provider"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error(), nil)
		return
	}
	if h.cfg.Resume == nil {
		h.fail(w, r, http.StatusNotImplemented, "this dashboard cannot resume providers: run `reactivator resume "+string(p)+"`", nil)
		return
	}
	if err := h.cfg.Resume(r.Context(), p); err != nil {
		h.fail(w, r, http.StatusInternalServerError, "resume "+string(p)+" failed; try `reactivator resume "+string(p)+"`", err)
		return
	}
	h.log.Info("dashboard: resumed provider", "provider", p, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/?resumed="+url.QueryEscape(string(p)), http.StatusSeeOther)
}

type errorData struct {
	layout
	Status  int
	Message string
}

// fail answers with an error page; err (logged, not shown) is the cause behind message.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, message string, err error) {
	if err != nil {
		h.log.Error("dashboard: "+message, "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	d := errorData{layout: layout{Title: http.StatusText(status), Monitor: monitorPath + "/"}, Status: status, Message: message}
	if err := h.pages.errPage.Execute(w, d); err != nil {
		h.log.Error("dashboard: render error page", "err", err)
	}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		h.fail(w, r, http.StatusInternalServerError, "cannot render the page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
}
