package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig names the program and the host in the spans it exports.
type TracingConfig struct {
	Identity
	// Logger receives export errors; the default discards them.
	Logger *slog.Logger
}

// SetupTracing builds a TracerProvider from the standard OpenTelemetry
// environment variables and returns it with a shutdown func that flushes
// buffered spans (call it once, at exit, with a bounded context).
//
// Spans are exported over OTLP when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
// OTEL_EXPORTER_OTLP_ENDPOINT is set, with the protocol of
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL:
// "http/protobuf" (the default, as the specification says) or "grpc". The
// exporters read the remaining OTEL_EXPORTER_OTLP_* variables (headers,
// TLS, timeout, compression) themselves, and the SDK reads OTEL_TRACES_SAMPLER
// and OTEL_RESOURCE_ATTRIBUTES.
//
// Without an endpoint, or with OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none, it returns a no-op provider: an agent nobody
// collects traces from should not pay for building spans.
func SetupTracing(ctx context.Context, cfg TracingConfig) (trace.TracerProvider, func(context.Context) error, error) {
	// The exporters read their own variables from the process environment,
	// so this reads it too rather than taking a lookup function.
	getenv := os.Getenv
	noopShutdown := func(context.Context) error { return nil }
	if disabled, _ := strconv.ParseBool(getenv("OTEL_SDK_DISABLED")); disabled {
		return noop.NewTracerProvider(), noopShutdown, nil
	}
	switch e := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); e {
	case "", "otlp":
	case "none":
		return noop.NewTracerProvider(), noopShutdown, nil
	default:
		return nil, nil, fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER=%q is not supported (otlp or none)", e)
	}
	if getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return noop.NewTracerProvider(), noopShutdown, nil
	}

	protocol, err := otlpProtocol("TRACES")
	if err != nil {
		return nil, nil, err
	}
	var exp sdktrace.SpanExporter
	if protocol == protoGRPC {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
	}

	res, err := newResource(ctx, cfg.Identity)
	if err != nil {
		// A partial resource (say, a malformed OTEL_RESOURCE_ATTRIBUTES) is
		// still worth exporting with; say so and go on.
		if cfg.Logger != nil {
			cfg.Logger.Warn("OpenTelemetry resource is incomplete", "err", err)
		}
	}
	// Export failures happen in the batcher's goroutine, where only the
	// global handler hears of them.
	routeErrors(cfg.Logger)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// routeErrors sends the errors the SDK reports from its own goroutines,
// which only OpenTelemetry's global handler hears of, to logger.
func routeErrors(logger *slog.Logger) {
	if logger == nil {
		return
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("OpenTelemetry export failed", "err", err)
	}))
}
