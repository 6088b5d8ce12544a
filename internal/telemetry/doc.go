// Package telemetry sets up procwatch's OpenTelemetry tracing from the
// standard OTEL_* environment variables: an OTLP exporter (HTTP or gRPC)
// behind a batching TracerProvider when an endpoint is configured, and a
// no-op provider otherwise, so an agent nobody collects traces from does
// not pay for building spans.
package telemetry
