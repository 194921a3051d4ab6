// This file is responsible for the run page's chart of calls and outcomes over time, drawn on the
// server as SVG: no script library and no CDN.

package dash

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"reactivator/jobs"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH              = 720, 200
	chartLeft, chartTop         = 44, 10
	chartRight                  = 8
	chartBottom                 = 24
	maxChartBars                = 90
	chartPlotW                  = chartW - chartLeft - chartRight
	chartPlotH                  = chartH - chartTop - chartBottom
	chartBarFill        float64 = 0.8
)

// chartView is what the chart template draws.
type chartView struct {
	W, H int
	// Empty is true when the run has no timeline (nothing called yet, or older than timelines).
	Empty bool
	Bars  []chartBar
	// Calls is the polyline of calls per bucket.
	Calls string
	// Bucket says what one bar stands for: "minute" or "5 minutes".
	Bucket      string
	YMax        int
	YMaxY       float64
	Axis        float64
	Left, Right float64
	Start, End  string
	// Total sums the chart for its accessible description.
	Total string
}

// chartBar is one bucket: its outcome stacks by tone, bottom up.
type chartBar struct {
	Title string
	Rects []chartRect
}

type chartRect struct {
	Kind       jobs.Tone
	X, Y, W, H string
}

// newChart draws tl, the run's minutes, as bars of outcomes by tone with a line of calls. The
// time axis runs from the first minute to the last (or to now while the run is unfinished), with
// no gaps, in at most maxChartBars buckets.
func newChart(tl []jobs.Minute, r jobs.Run, now time.Time) chartView {
	c := chartView{W: chartW, H: chartH, Left: chartLeft, Right: chartW - chartRight, Axis: chartTop + chartPlotH}
	if len(tl) == 0 {
		c.Empty = true
		return c
	}
	first := tl[0].At
	last := tl[len(tl)-1].At
	if r.State != jobs.RunFinished && now.Truncate(time.Minute).After(last) && now.Sub(last) < 24*time.Hour {
		last = now.Truncate(time.Minute)
	}
	minutes := int(last.Sub(first)/time.Minute) + 1
	per := (minutes + maxChartBars - 1) / maxChartBars
	n := (minutes + per - 1) / per
	type bucket struct {
		calls int
		tones map[jobs.Tone]int
	}
	bs := make([]bucket, n)
	for i := range bs {
		bs[i].tones = map[jobs.Tone]int{}
	}
	var calls, outcomes int
	for _, m := range tl {
		i := int(m.At.Sub(first)/time.Minute) / per
		if i < 0 || i >= n {
			continue
		}
		bs[i].calls += m.Calls
		calls += m.Calls
		for k, v := range m.Tones() {
			bs[i].tones[k] += v
			outcomes += v
		}
	}
	top := 1
	for _, b := range bs {
		sum := 0
		for _, v := range b.tones {
			sum += v
		}
		top = max(top, sum, b.calls)
	}
	c.YMax = niceCeil(top)
	c.YMaxY = chartTop
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	slot := float64(chartPlotW) / float64(n)
	barW := slot * chartBarFill
	y := func(v int) float64 { return chartTop + chartPlotH - float64(v)/float64(c.YMax)*chartPlotH }
	var pts []string
	for i, b := range bs {
		x := chartLeft + float64(i)*slot
		at := first.Add(time.Duration(i*per) * time.Minute)
		bar := chartBar{Title: fmt.Sprintf("%s UTC: %d calls, %d reactivated or active, %d nothing to do, %d failed",
			at.UTC().Format("15:04"), b.calls, b.tones[jobs.ToneGood], b.tones[jobs.ToneNeutral], b.tones[jobs.ToneBad])}
		base := 0
		for _, k := range []jobs.Tone{jobs.ToneGood, jobs.ToneNeutral, jobs.ToneBad} {
			v := b.tones[k]
			if v <= 0 {
				continue
			}
			bar.Rects = append(bar.Rects, chartRect{Kind: k, X: f(x + (slot-barW)/2), W: f(barW),
				Y: f(y(base + v)), H: f(y(base) - y(base+v))})
			base += v
		}
		c.Bars = append(c.Bars, bar)
		pts = append(pts, f(x+slot/2)+","+f(y(b.calls)))
	}
	if len(pts) == 1 {
		// One bucket: a short flat line, so the calls still show.
		x := chartLeft + slot/2
		yy := y(bs[0].calls)
		pts = []string{f(x-barW/2) + "," + f(yy), f(x+barW/2) + "," + f(yy)}
	}
	c.Calls = strings.Join(pts, " ")
	c.Bucket = "minute"
	if per > 1 {
		c.Bucket = strconv.Itoa(per) + " minutes"
	}
	end := first.Add(time.Duration(n*per) * time.Minute)
	c.Start, c.End = first.UTC().Format("15:04"), end.UTC().Format("15:04")
	if first.UTC().YearDay() != end.UTC().YearDay() {
		c.Start, c.End = first.UTC().Format("Jan 2 15:04"), end.UTC().Format("Jan 2 15:04")
	}
	c.Total = fmt.Sprintf("%d calls and %d outcomes from %s to %s UTC", calls, outcomes, c.Start, c.End)
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
