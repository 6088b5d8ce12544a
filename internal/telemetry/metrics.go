package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promotel "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// DefaultMetricExportInterval is the period of the pushes when
// OTEL_METRIC_EXPORT_INTERVAL is unset, the specification's default.
const DefaultMetricExportInterval = 60 * time.Second

// MetricsConfig says what SetupMetrics pushes and as whom.
type MetricsConfig struct {
	Identity
	// Gatherer is what is pushed: the registry /metrics serves, so that a
	// collector receives the same series a Prometheus scrape would.
	Gatherer prometheus.Gatherer
	// Registerer, when set, receives procwatch_otlp_metric_exports_total,
	// so that failing pushes can be alerted on like anything else; it is
	// registered (at zero) when nothing is pushed too, so that /metrics
	// has the same families on every agent.
	Registerer prometheus.Registerer
	// Logger hears of failed pushes, once per streak of failures, and of
	// their recovery; the default discards them.
	Logger *slog.Logger
	// Interval, when positive, replaces OTEL_METRIC_EXPORT_INTERVAL.
	Interval time.Duration
}

// SetupMetrics starts pushing cfg.Gatherer's metrics over OTLP when
// OTEL_METRICS_EXPORTER is "otlp", and returns a shutdown func that
// pushes once more and stops (call it once, at exit, with a bounded
// context). Unset, "none" or "prometheus" (which /metrics already is), or
// OTEL_SDK_DISABLED=true, build nothing at all.
//
// The protocol is OTEL_EXPORTER_OTLP_METRICS_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" (the default, as the
// specification says) or "grpc". The exporters read the endpoint, headers,
// TLS, timeout and compression from the other OTEL_EXPORTER_OTLP_* and
// OTEL_EXPORTER_OTLP_METRICS_* variables themselves; the period is
// OTEL_METRIC_EXPORT_INTERVAL, in milliseconds.
//
// Pushes run in a goroutine of their own: a collector that is slow or
// away delays nothing but the next push.
func SetupMetrics(ctx context.Context, cfg MetricsConfig) (func(context.Context) error, error) {
	getenv := os.Getenv
	noopShutdown := func(context.Context) error { return nil }
	exports := newExportsCounter()
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(exports); err != nil {
			return nil, fmt.Errorf("telemetry: %w", err)
		}
	}
	if disabled, _ := strconv.ParseBool(getenv("OTEL_SDK_DISABLED")); disabled {
		return noopShutdown, nil
	}
	otlp := false
	for e := range strings.SplitSeq(getenv("OTEL_METRICS_EXPORTER"), ",") {
		switch e = strings.TrimSpace(e); e {
		case "", "none", "prometheus":
		case "otlp":
			otlp = true
		default:
			return nil, fmt.Errorf("telemetry: OTEL_METRICS_EXPORTER=%q is not supported (otlp, prometheus or none)", e)
		}
	}
	if !otlp {
		return noopShutdown, nil
	}
	if cfg.Gatherer == nil {
		return nil, fmt.Errorf("telemetry: no metrics to push")
	}
	interval := cfg.Interval
	if interval <= 0 {
		var err error
		if interval, err = exportInterval(getenv("OTEL_METRIC_EXPORT_INTERVAL")); err != nil {
			return nil, err
		}
	}

	protocol, err := otlpProtocol("METRICS")
	if err != nil {
		return nil, err
	}
	var exp sdkmetric.Exporter
	if protocol == protoGRPC {
		exp, err = otlpmetricgrpc.New(ctx)
	} else {
		exp, err = otlpmetrichttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP metric exporter: %w", err)
	}

	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := newResource(ctx, cfg.Identity)
	if err != nil {
		// A partial resource is still worth exporting with.
		log.Warn("OpenTelemetry resource is incomplete", "err", err)
	}
	se := newStreakExporter(exp, log, protocol, exports)
	// What the bridge cannot convert (it reports through the global
	// handler) reaches the log too.
	routeErrors(cfg.Logger)
	reader := sdkmetric.NewPeriodicReader(se,
		sdkmetric.WithInterval(interval),
		sdkmetric.WithProducer(promotel.NewMetricProducer(promotel.WithGatherer(cfg.Gatherer))))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	return func(ctx context.Context) error {
		se.closing.Store(true)
		return mp.Shutdown(ctx)
	}, nil
}

// exportInterval reads OTEL_METRIC_EXPORT_INTERVAL. The SDK would fall
// back to its default on a bad value with a message nobody sees; a
// mistyped setting is better refused at start.
func exportInterval(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultMetricExportInterval, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 || ms > int64(24*time.Hour/time.Millisecond) {
		return 0, fmt.Errorf("telemetry: OTEL_METRIC_EXPORT_INTERVAL=%q: want a positive number of milliseconds, at most a day", v)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
