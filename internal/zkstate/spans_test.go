package zkstate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestSpans(t *testing.T) {
	zks := startZK(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	st := createStore[counter](t, newSession(t, zks.ConnectString()), "/spans", counter{}, WithTracerProvider(tp))
	ctx := testCtx(t, 10*time.Second)
	if _, err := st.Update(ctx, func(c *counter) error { c.N++; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConsistentRead(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CompareAndSwap(ctx, 0, counter{N: 7}); err == nil {
		t.Fatal("CompareAndSwap on version 0 succeeded after an update")
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	want := []string{"zkstate.Update", "zkstate.ConsistentRead", "zkstate.CompareAndSwap"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	failed := rec.Ended()[2]
	if failed.Status().Code.String() != "Error" || len(failed.Events()) == 0 {
		t.Errorf("the failed CompareAndSwap span has status %v and %d events; want Error with the error recorded", failed.Status(), len(failed.Events()))
	}
}
