package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// streakExporter wraps an OTLP exporter so that a collector that is away
// is logged when the pushes start failing and when they work again, not
// at every interval, and each push is counted.
type streakExporter struct {
	sdkmetric.Exporter
	log      *slog.Logger
	protocol string
	ok, fail prometheus.Counter
	// closing is set at shutdown, whose last push reports its error to
	// the caller rather than only to the log.
	closing atomic.Bool

	mu      sync.Mutex
	failing bool
}

// newExportsCounter is procwatch_otlp_metric_exports_total, both results
// present from the start so that a rate of errors is there to alert on.
func newExportsCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "procwatch_otlp_metric_exports_total",
		Help: "Pushes of the metrics over OTLP, by result (ok or error); none while OTEL_METRICS_EXPORTER is not otlp.",
	}, []string{"result"})
	c.WithLabelValues("ok")
	c.WithLabelValues("error")
	return c
}

func newStreakExporter(exp sdkmetric.Exporter, log *slog.Logger, protocol string, exports *prometheus.CounterVec) *streakExporter {
	if protocol == "" {
		protocol = "http/protobuf"
	}
	return &streakExporter{
		Exporter: exp,
		log:      log,
		protocol: protocol,
		ok:       exports.WithLabelValues("ok"),
		fail:     exports.WithLabelValues("error"),
	}
}

// Export pushes rm, logging a change between failing and working. Its
// error goes to the reader only at shutdown, whose caller reports it: the
// periodic reader would hand every one to the global handler, a line per
// interval.
func (e *streakExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	if e.closing.Load() {
		if errors.Is(ctx.Err(), context.Canceled) {
			// A periodic push that shutdown interrupted; its last push
			// carries the same series.
			return nil
		}
		e.count(err)
		return err
	}
	e.count(err)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case err != nil && !e.failing:
		e.failing = true
		e.log.Warn("pushing metrics over OTLP failed; retrying at every interval, logged again when it works",
			"protocol", e.protocol, "err", err)
	case err == nil && e.failing:
		e.failing = false
		e.log.Info("pushing metrics over OTLP works again", "protocol", e.protocol)
	}
	return nil
}

func (e *streakExporter) count(err error) {
	if err != nil {
		e.fail.Inc()
	} else {
		e.ok.Inc()
	}
}
