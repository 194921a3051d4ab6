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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"reactivator/jobs"
	"reactivator/jobs/report"
)

//go:embed templates/*.html
var templateFS embed.FS

// staticFS holds static/style.css, served at /static/style.css.
//
//go:embed static
var staticFS embed.FS

// maxFailures is how many failures the run page lists; the reports have them all.
const maxFailures = 200

// defaultRefresh is how often a page with a run in progress asks for fresh numbers.
const defaultRefresh = 5 * time.Second

// pollMillis is how often the page's script polls the live endpoint; 0 for never.
func (h *Handler) pollMillis() int {
	if h.cfg.Refresh < 0 {
		return 0
	}
	return max(100, int(h.cfg.Refresh/time.Millisecond))
}

type pages struct {
	runs, run, errPage *template.Template
}

func newPages() (*pages, error) {
	funcs := template.FuncMap{"runURL": runURL, "when": when,
		"hasOutcome": func(l []jobs.Outcome, o jobs.Outcome) bool { return slices.Contains(l, o) },
		"hasString":  func(l []string, s string) bool { return slices.Contains(l, s) }}
	parse := func(name string) (*template.Template, error) {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name)
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
	// Live is the JSON endpoint the page's script polls for fresh numbers; "" for none.
	Live string
	// Poll is the polling interval in milliseconds; 0 never.
	Poll    int
	Monitor string
}

// countView is the rows of one outcome (or of already-active accounts) in a run.
type countView struct {
	// Key is the outcome, or "already_active" for not_deactivated rows whose account is active.
	Key string `json:"key"`
	N   int    `json:"n"`
	// Kind is the badge's colour: jobs.ToneGood, ToneNeutral or ToneBad.
	Kind   jobs.Tone `json:"kind"`
	Advice string    `json:"advice"`
}

// runView is a run as the pages (and the live endpoint) show it.
type runView struct {
	jobs.Run
	URL     string `json:"url"`
	Pending int    `json:"pending"`
	// Percent is the share of rows with an outcome (jobs.Run.Percent, rounded down so that a bar
	// never says 100 while a row is left); 100 for a run without rows.
	Percent  string      `json:"percent"`
	Segments []segment   `json:"segments"`
	Views    []countView `json:"outcomes"`
	Failures int         `json:"failures"`
	// AlreadyActive counts the not_deactivated rows whose account was found active; -1 when unknown.
	AlreadyActive int         `json:"already_active"`
	Rate          string      `json:"rate,omitempty"`
	RecentRate    string      `json:"recent_rate,omitempty"`
	ETA           string      `json:"eta,omitempty"`
	Status        jobs.Status `json:"status"`
	Duration      string      `json:"duration,omitempty"`
	// UndoOfURL is the page of the run an undo run undoes; UndoneByURL the page of a run's undo
	// run; "" when there is none.
	UndoOfURL   string `json:"undo_of_url,omitempty"`
	UndoneByURL string `json:"undone_by_url,omitempty"`
}

// Deactivated is how many accounts an undo run deactivated.
func (v runView) Deactivated() int { return v.Counts[jobs.Deactivated] }

// segment is one coloured stretch of a progress bar, in percent of the run's rows.
type segment struct {
	Kind jobs.Tone `json:"kind"`
	X    string    `json:"x"`
	W    string    `json:"w"`
}

// viewRun builds a run's view. paused says whether its provider is paused; tl is its timeline,
// nil when not read (the runs page) or empty (a run older than timelines), which leaves the
// recent rate and the already-active count unknown.
func viewRun(r jobs.Run, paused bool, tl []jobs.Minute, now time.Time) runView {
	v := runView{Run: r, URL: runURL(r.ID), Status: r.Status(paused), AlreadyActive: -1}
	if r.UndoOf != "" {
		v.UndoOfURL = runURL(r.UndoOf)
	}
	if r.UndoneBy != "" {
		v.UndoneByURL = runURL(r.UndoneBy)
	}
	v.Pending = max(0, r.Pending())
	if len(tl) > 0 {
		v.AlreadyActive = 0
		for _, m := range tl {
			v.AlreadyActive += m.AlreadyActive
		}
	}
	var tones = map[jobs.Tone]int{}
	for _, o := range jobs.Outcomes {
		n := r.Counts[o]
		if n == 0 {
			continue
		}
		if o == jobs.NotDeactivated {
			switch {
			case v.AlreadyActive < 0:
				// Unknown how many are active: mostly they are, so not painted as failures.
				v.Views = append(v.Views, countView{Key: string(o), N: n, Kind: jobs.ToneNeutral, Advice: o.Advice()})
				tones[jobs.ToneNeutral] += n
				continue
			case v.AlreadyActive > 0:
				v.AlreadyActive = min(v.AlreadyActive, n)
				v.Views = append(v.Views, countView{Key: jobs.ReasonAlreadyActive, N: v.AlreadyActive, Kind: jobs.ToneGood,
					Advice: "the account is active: nothing to do"})
				tones[jobs.ToneGood] += v.AlreadyActive
				n -= v.AlreadyActive
				if n <= 0 {
					continue
				}
			}
			v.Views = append(v.Views, countView{Key: string(o), N: n, Kind: jobs.ToneBad,
				Advice: "the account is not active but cannot be reactivated (locked, never set up, invited): see the reason"})
			tones[jobs.ToneBad] += n
			continue
		}
		kind := jobs.ToneOf(o, "")
		v.Views = append(v.Views, countView{Key: string(o), N: n, Kind: kind, Advice: o.Advice()})
		tones[kind] += n
	}
	v.Failures = tones[jobs.ToneBad]
	v.Percent = strconv.Itoa(r.Percent())
	if r.Total > 0 {
		share := func(n int) float64 { return 100 * float64(n) / float64(r.Total) }
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
		x := 0.0
		for _, k := range []jobs.Tone{jobs.ToneGood, jobs.ToneNeutral, jobs.ToneBad} {
			if n := tones[k]; n > 0 {
				v.Segments = append(v.Segments, segment{Kind: k, X: f(x), W: f(share(n))})
				x += share(n)
			}
		}
	}
	rate := r.Rate()
	if rate > 0 {
		v.Rate = rateText(rate)
	}
	if recent := recentRate(r, tl, now); recent > 0 {
		v.RecentRate = rateText(recent)
		rate = recent
	}
	if v.Status == jobs.StatusRunning || v.Status == jobs.StatusQueued {
		if eta := r.ETA(rate); eta > 0 {
			v.ETA = eta.String()
		}
	}
	if d := r.Span(); d > 0 {
		if d < time.Second {
			v.Duration = "under 1s"
		} else {
			v.Duration = d.Round(time.Second).String()
		}
	}
	return v
}

func rateText(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) + "/s" }

// recentWindow is the span the recent rate is measured over.
const recentWindow = 5 * time.Minute

// recentRate returns the rows per second that got an outcome from a call over the last
// recentWindow of an unfinished run, 0 when unknown.
func recentRate(r jobs.Run, tl []jobs.Minute, now time.Time) float64 {
	if len(tl) == 0 || r.State == jobs.RunFinished || r.FirstCallAt.IsZero() {
		return 0
	}
	from := now.Add(-recentWindow).Truncate(time.Minute)
	if from.Before(r.FirstCallAt) {
		from = r.FirstCallAt
	}
	n := 0
	for _, m := range tl {
		if m.At.Add(time.Minute).After(from) {
			for o, c := range m.Outcomes {
				if o != jobs.Invalid && o != jobs.Duplicate {
					n += c
				}
			}
		}
	}
	secs := now.Sub(from).Seconds()
	if n == 0 || secs < 1 {
		return 0
	}
	return float64(n) / secs
}

// pauseView is a paused provider.
type pauseView struct {
	jobs.Pause
	Since     string `json:"since"`
	RunURL    string `json:"run_url,omitempty"`
	CanResume bool   `json:"can_resume"`
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

func isPaused(paused []pauseView, p jobs.Provider) bool {
	for _, v := range paused {
		if v.Provider == p {
			return true
		}
	}
	return false
}

type runsData struct {
	layout
	Runs   []runView   `json:"runs"`
	Paused []pauseView `json:"paused"`
	// Resumed names the provider a resume just unpaused.
	Resumed string `json:"-"`
	// Older links to the next page of older runs; "" on the last page.
	Older string `json:"older,omitempty"`
}

// runsPageSize is how many runs a page of the runs page lists.
const runsPageSize = 50

// runsData reads what the runs page shows.
func (h *Handler) runsData(r *http.Request) (runsData, int, string, error) {
	after := r.URL.Query().Get("after")
	page, err := h.cfg.Store.ListRuns(r.Context(), jobs.ListOptions{Limit: runsPageSize, After: after})
	if errors.Is(err, jobs.ErrBadCursor) {
		return runsData{}, http.StatusBadRequest, "no such page of runs", err
	}
	if err != nil {
		return runsData{}, http.StatusServiceUnavailable, "cannot read the runs from Redis", err
	}
	runs := page.Runs
	if after == "" && page.Next != "" {
		// The first page also shows the runs still in progress that are older than it.
		open, err := h.cfg.Store.OpenRuns(r.Context())
		if err != nil {
			return runsData{}, http.StatusServiceUnavailable, "cannot read the runs from Redis", err
		}
		shown := map[string]bool{}
		for _, run := range runs {
			shown[run.ID] = true
		}
		for _, run := range open {
			if !shown[run.ID] {
				runs = append(runs, run)
			}
		}
	}
	paused, err := h.pausedViews(r)
	if err != nil {
		return runsData{}, http.StatusServiceUnavailable, "cannot read the paused providers from Redis", err
	}
	live := "/api/runs"
	if after != "" {
		live += "?after=" + url.QueryEscape(after)
	}
	d := runsData{layout: layout{Title: "Runs", Monitor: monitorPath + "/", Live: live, Poll: h.pollMillis()},
		Paused: paused, Runs: []runView{}}
	if page.Next != "" {
		d.Older = "/?after=" + url.QueryEscape(page.Next)
	}
	now := time.Now()
	for _, run := range runs {
		d.Runs = append(d.Runs, viewRun(run, isPaused(paused, run.Provider), nil, now))
	}
	return d, 0, "", nil
}

func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request) {
	d, status, msg, err := h.runsData(r)
	if err != nil {
		h.fail(w, r, status, msg, err)
		return
	}
	if p, err := jobs.ParseProvider(r.URL.Query().Get("resumed")); err == nil {
		d.Resumed = string(p)
	}
	h.render(w, r, h.pages.runs, d)
}

// failureView is one row of the run page's failure table.
type failureView struct {
	Line       int          `json:"line"`
	IDs        []idView     `json:"ids"`
	Outcome    jobs.Outcome `json:"outcome"`
	Reason     string       `json:"reason,omitempty"`
	HTTPStatus int          `json:"http_status,omitempty"`
	Attempts   int          `json:"attempts,omitempty"`
	Message    string       `json:"message,omitempty"`
	Finished   string       `json:"finished,omitempty"`
}

type idView struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// idColumns names the first three input cells (jobs.ReportRow.Input).
var idColumns = []string{"organization_id", "member_id", "user_id"}

type runData struct {
	layout
	Run runView `json:"run"`
	// Undone is the undo run of this run, when it was undone and its undo run is kept.
	Undone *runView   `json:"undone,omitempty"`
	Paused *pauseView `json:"paused,omitempty"`
	Chart  chartView  `json:"-"`
	// Timeline is the run's calls and outcomes per minute, oldest first.
	Timeline []jobs.Minute `json:"timeline"`
	Filter   failureFilter `json:"filter"`
	failureList
	Downloads []download `json:"-"`
	QueueURL  string     `json:"-"`
}

type download struct{ Label, URL string }

// runData reads what a run's page shows; status and msg say what went wrong when err is set.
func (h *Handler) runData(r *http.Request) (runData, int, string, error) {
	id := r.PathValue("id")
	run, err := h.cfg.Store.Run(r.Context(), id)
	if errors.Is(err, jobs.ErrRunNotFound) {
		return runData{}, http.StatusNotFound, fmt.Sprintf("no run %q: it may have been ingested on another Redis", id), nil
	}
	if err != nil {
		return runData{}, http.StatusServiceUnavailable, "cannot read the run from Redis", err
	}
	if run.Pruning {
		return runData{}, http.StatusGone, fmt.Sprintf("run %q is being pruned: some of its rows are deleted; the next prune finishes it", id), nil
	}
	paused, err := h.pausedViews(r)
	if err != nil {
		return runData{}, http.StatusServiceUnavailable, "cannot read the paused providers from Redis", err
	}
	tl, err := h.cfg.Store.Timeline(r.Context(), run.ID)
	if err != nil {
		return runData{}, http.StatusServiceUnavailable, "cannot read the run's timeline from Redis", err
	}
	now := time.Now()
	base := runURL(run.ID)
	d := runData{
		layout: layout{Title: "Run " + run.ID, Monitor: monitorPath + "/", Live: "/api" + base, Poll: h.pollMillis()},
		Run:    viewRun(run, isPaused(paused, run.Provider), tl, now),
		QueueURL: monitorPath + "/queues/" + url.PathEscape(run.Provider.Queue()) +
			"?status=archived",
		Timeline: tl,
		Filter:   parseFilter(r.URL.Query()),
	}
	d.Chart = newChart(tl, run, now)
	d.Downloads = []download{
		{"CSV", base + "/report.csv"}, {"JSON", base + "/report.json"}, {"Markdown", base + "/report.md"},
		{"Failures only (CSV, ready to run again)", base + "/report.csv?failed_only=1"},
	}
	for i := range paused {
		if paused[i].Provider == run.Provider {
			d.Paused = &paused[i]
		}
	}
	if run.UndoneBy != "" {
		u, err := h.cfg.Store.Run(r.Context(), run.UndoneBy)
		switch {
		case err == nil:
			uv := viewRun(u, isPaused(paused, u.Provider), nil, now)
			d.Undone = &uv
		case !errors.Is(err, jobs.ErrRunNotFound):
			return runData{}, http.StatusServiceUnavailable, "cannot read the run's undo run from Redis", err
		}
	}
	if d.failureList, err = h.failures(r.Context(), run, d.Filter); err != nil {
		return runData{}, http.StatusServiceUnavailable, "cannot read the run's rows from Redis", err
	}
	return d, 0, "", nil
}

func (h *Handler) runPage(w http.ResponseWriter, r *http.Request) {
	d, status, msg, err := h.runData(r)
	if status != 0 {
		h.fail(w, r, status, msg, err)
		return
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
	if run, err := h.cfg.Store.Run(r.Context(), id); errors.Is(err, jobs.ErrRunNotFound) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("no run %q", id), nil)
		return
	} else if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "cannot read the run from Redis", err)
		return
	} else if run.Pruning {
		h.fail(w, r, http.StatusGone, fmt.Sprintf("run %q is being pruned: it has no report", id), nil)
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
	if _, err := report.Write(r.Context(), w, h.cfg.Store, id, jobs.ReportOptions{Format: rt.format, FailedOnly: failedOnly}); err != nil {
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
	if check := h.cfg.CheckResume; check != nil {
		if err := check(r.Context(), p); err != nil {
			h.log.Warn("dashboard: resume refused", "provider", p, "remote", r.RemoteAddr, "err", err)
			h.fail(w, r, http.StatusConflict, "not resumed: "+err.Error(), nil)
			return
		}
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
