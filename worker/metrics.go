// This file defines the worker's Prometheus metrics.

package worker

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the worker's Prometheus collectors. A nil *Metrics records nothing.
type Metrics struct {
	Calls        *prometheus.CounterVec
	CallDuration *prometheus.HistogramVec
	LimiterWait  *prometheus.HistogramVec
	RateLimited  *prometheus.CounterVec
	Outcomes     *prometheus.CounterVec
	AutoRate     *prometheus.GaugeVec
}

// NewMetrics returns the worker's metrics, registered on reg when it is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reactivator_calls_total",
			Help: "Reactivate calls by provider and answer class."}, []string{"provider", "class"}),
		CallDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "reactivator_call_duration_seconds",
			Help: "Latency of reactivate calls.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}, []string{"provider"}),
		LimiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "reactivator_limiter_wait_seconds",
			Help: "Time rows waited for the provider's rate budget.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}, []string{"provider"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reactivator_rate_limited_total",
			Help: "429 answers received."}, []string{"provider"}),
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reactivator_outcomes_total",
			Help: "Row outcomes recorded by this worker."}, []string{"provider", "outcome"}),
		AutoRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "reactivator_auto_rate",
			Help: "Requests per second that --rate auto is using."}, []string{"provider"}),
	}
	if reg != nil {
		reg.MustRegister(m.Calls, m.CallDuration, m.LimiterWait, m.RateLimited, m.Outcomes, m.AutoRate)
	}
	return m
}
