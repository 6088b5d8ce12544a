package agent

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procwatch/procwatch/internal/telemetry"
)

// identity names this agent in its spans and pushed metrics: the host
// by --hostname and the labels, so that a collector's series and traces
// say which agent of the fleet they came from as member info does.
func (c *Config) identity() telemetry.Identity {
	return telemetry.Identity{
		ServiceName:    "procwatch",
		ServiceVersion: c.Version,
		Hostname:       c.Hostname,
		Labels:         c.Labels,
	}
}

// pushMetrics starts pushing reg, the registry /metrics serves, over OTLP
// when the OTEL_* variables ask for it (telemetry.SetupMetrics), and
// returns what flushes and stops it within shutdownTimeout. Left
// unconfigured, nothing is built.
func (a *agent) pushMetrics(ctx context.Context, reg *prometheus.Registry) (stop func(), err error) {
	shutdown, err := telemetry.SetupMetrics(ctx, telemetry.MetricsConfig{
		Identity:   a.cfg.identity(),
		Gatherer:   reg,
		Registerer: reg,
		Logger:     a.log.With("component", "otlp"),
	})
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			a.log.Warn("pushing the last metrics over OTLP failed", "err", err)
		}
	}, nil
}
