package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig names the program in the spans it exports.
type TracingConfig struct {
	// ServiceName is service.name unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES set it.
	ServiceName string
	// ServiceVersion is service.version.
	ServiceVersion string
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

	protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, nil, fmt.Errorf("telemetry: OTLP protocol %q is not supported (http/protobuf or grpc)", protocol)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
	}

	// The service name goes first so that OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES, detected after it, win.
	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil {
		// A partial resource (say, a malformed OTEL_RESOURCE_ATTRIBUTES) is
		// still worth exporting with; say so and go on.
		if cfg.Logger != nil {
			cfg.Logger.Warn("OpenTelemetry resource is incomplete", "err", err)
		}
	}
	if cfg.Logger != nil {
		// Export failures happen in the batcher's goroutine, where only the
		// global handler hears of them; route them to our log.
		logger := cfg.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("OpenTelemetry export failed", "err", err)
		}))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}
