package agent

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// handler serves /metrics, /healthz, /readyz and a landing page.
//
// /healthz answers 200 as long as the process serves HTTP: a restart would
// not bring ZooKeeper back, so liveness must not depend on it. /readyz
// answers 200 once a watch list is in force (from ZooKeeper or the cache
// file) and 503 before, when the metrics would describe no glob.
func (a *agent) handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{a},
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes beyond this many are refused with 503 rather than piling
		// up; one Prometheus or two never come near it.
		MaxRequestsInFlight: 10,
		EnableOpenMetrics:   true,
	})))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !a.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: no watch list loaded yet from ZooKeeper (%s) or a cache file\n", a.sess.Servers())
			return
		}
		fmt.Fprintln(w, "ready")
	})
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "procwatch",
		Description: "Per-glob process metrics for a watch list shared through ZooKeeper",
		Version:     a.cfg.Version,
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/healthz", Text: "Health"},
			{Address: "/readyz", Text: "Readiness"},
		},
	})
	if err != nil {
		// The landing page is a convenience; serve without it.
		a.log.Warn("landing page unavailable", "err", err)
	} else {
		mux.Handle("/", landing)
	}
	return mux
}

// promLogger hands promhttp's errors (a collector failing mid-scrape) to
// the agent's logger.
type promLogger struct{ a *agent }

func (l promLogger) Println(v ...any) { l.a.log.Error(fmt.Sprint(v...)) }
