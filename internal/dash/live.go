// This file is responsible for the live endpoints the pages poll: /api/runs and /api/runs/{id}
// answer JSON with the numbers and with the page's live parts rendered as HTML, so the page
// updates in place (no reload, the scroll and the filter inputs stay) from one set of templates.

package dash

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
)

// liveRuns is the answer of GET /api/runs.
type liveRuns struct {
	runsData
	// HTML holds the runs page's live parts by element id suffix (live-<name>).
	HTML map[string]string `json:"html"`
}

// liveRun is the answer of GET /api/runs/{id}.
type liveRun struct {
	runData
	// HTML holds the run page's live parts by element id suffix (live-<name>).
	HTML map[string]string `json:"html"`
}

// runsParts are the templates of the runs page's live parts.
var runsParts = []string{"paused", "runs"}

// runParts are the templates of the run page's live parts.
var runParts = []string{"runpaused", "progress", "outcomes", "chart", "failures"}

func (h *Handler) liveRuns(w http.ResponseWriter, r *http.Request) {
	d, status, msg, err := h.runsData(r)
	if err != nil {
		h.failJSON(w, r, status, msg, err)
		return
	}
	html, err := parts(h.pages.runs, runsParts, d)
	if err != nil {
		h.failJSON(w, r, http.StatusInternalServerError, "cannot render the runs", err)
		return
	}
	h.writeJSON(w, liveRuns{runsData: d, HTML: html})
}

func (h *Handler) liveRun(w http.ResponseWriter, r *http.Request) {
	d, status, msg, err := h.runData(r)
	if status != 0 {
		h.failJSON(w, r, status, msg, err)
		return
	}
	html, err := parts(h.pages.run, runParts, d)
	if err != nil {
		h.failJSON(w, r, http.StatusInternalServerError, "cannot render the run", err)
		return
	}
	h.writeJSON(w, liveRun{runData: d, HTML: html})
}

// parts renders the named templates of t with data.
func parts(t *template.Template, names []string, data any) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, n := range names {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, n, data); err != nil {
			return nil, err
		}
		out[n] = b.String()
	}
	return out, nil
}

func (h *Handler) writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("dashboard: encode JSON", "err", err)
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// failJSON answers {"error": message} with status; err (logged, not shown) is the cause.
func (h *Handler) failJSON(w http.ResponseWriter, r *http.Request, status int, message string, err error) {
	if err != nil {
		h.log.Error("dashboard: "+message, "path", r.URL.Path, "err", err)
	}
	b, _ := json.Marshal(map[string]string{"error": message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
