package telemetry

import (
	"context"
	"maps"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// LabelAttributePrefix begins the resource attribute that carries each of
// the agent's identity labels: --label role=db is procwatch.label.role="db".
const LabelAttributePrefix = "procwatch.label."

// Identity names the program and the host in what it exports, so that its
// spans and metrics join on the same resource.
type Identity struct {
	// ServiceName is service.name unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES set it.
	ServiceName string
	// ServiceVersion is service.version.
	ServiceVersion string
	// Hostname is host.name; empty is the OS hostname.
	Hostname string
	// Labels are the agent's identity labels, one attribute each under
	// LabelAttributePrefix.
	Labels map[string]string
}

// newResource builds the resource of id. The program's own attributes go
// first so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, detected
// after them, win, as the specification wants of the environment.
func newResource(ctx context.Context, id Identity) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{attribute.String("service.name", id.ServiceName)}
	if id.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", id.ServiceVersion))
	}
	opts := []resource.Option{resource.WithTelemetrySDK()}
	if id.Hostname != "" {
		attrs = append(attrs, attribute.String("host.name", id.Hostname))
	} else {
		opts = append(opts, resource.WithHost())
	}
	for _, k := range slices.Sorted(maps.Keys(id.Labels)) {
		attrs = append(attrs, attribute.String(LabelAttributePrefix+k, id.Labels[k]))
	}
	opts = append(opts, resource.WithAttributes(attrs...), resource.WithFromEnv())
	return resource.New(ctx, opts...)
}
