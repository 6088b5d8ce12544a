package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestLogHandlerAddsSpanIDs(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(slog.NewTextHandler(&buf, nil))).With("component", "agent")

	ctx, span := tp.Tracer("test").Start(context.Background(), "rematch")
	log.InfoContext(ctx, "inside")
	span.End()
	log.InfoContext(context.Background(), "outside")
	noopCtx, noopSpan := noop.NewTracerProvider().Tracer("test").Start(context.Background(), "off")
	log.InfoContext(noopCtx, "tracing off")
	noopSpan.End()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got:\n%s", buf.String())
	}
	sc := span.SpanContext()
	for _, want := range []string{"msg=inside", "component=agent", "trace_id=" + sc.TraceID().String(), "span_id=" + sc.SpanID().String()} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line inside the span %q lacks %q", lines[0], want)
		}
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "trace_id") || strings.Contains(l, "span_id") {
			t.Errorf("line without a valid span %q carries ids", l)
		}
	}
}

// TestLogHandlerKeepsWrapping: a logger derived with With or WithGroup
// still adds the ids, and wrapping twice adds them once.
func TestLogHandlerKeepsWrapping(t *testing.T) {
	var buf bytes.Buffer
	h := NewLogHandler(NewLogHandler(slog.NewTextHandler(&buf, nil)))
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	slog.New(h).With("a", 1).WithGroup("g").InfoContext(ctx, "x")
	line := buf.String()
	if strings.Count(line, "trace_id=") != 1 || !strings.Contains(line, "g.trace_id="+sc.TraceID().String()) {
		t.Errorf("line %q: want the trace id once, inside the group", line)
	}
}
