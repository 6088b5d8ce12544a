package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// The keys under which a log record carries the ids of its span, as the
// OpenTelemetry log data model names them.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// NewLogHandler wraps h so that every record written with a context that
// holds a span (logger.InfoContext(ctx, ...) inside the span) carries that
// span's trace_id and span_id: a trace found in a collector leads to its
// log lines, and a log line to its trace. Records written without one,
// or while tracing is off (a no-op provider makes no valid spans), are
// passed on unchanged.
//
// The ids are added where the record is written, so under a
// logger.WithGroup they land inside the group, as any attribute does.
func NewLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(traceHandler); ok {
		return h
	}
	return traceHandler{h}
}

type traceHandler struct{ inner slog.Handler }

func (h traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		// A copy, as slog asks of a handler that adds to a record it was
		// given.
		r = r.Clone()
		r.AddAttrs(slog.String(TraceIDKey, sc.TraceID().String()), slog.String(SpanIDKey, sc.SpanID().String()))
	}
	return h.inner.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.inner.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.inner.WithGroup(name)}
}
