// Package otlptest is an OTLP metrics receiver for tests, over HTTP
// (protobuf) or gRPC, that decodes what it receives with the
// OpenTelemetry proto types and hands each request to the test: the one
// receiver telemetry's tests and the agent's share.
package otlptest

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Request is one push received.
type Request = colmetricspb.ExportMetricsServiceRequest

// Receiver receives OTLP metrics until the test ends.
type Receiver struct {
	// Protocol is the OTEL_EXPORTER_OTLP_METRICS_PROTOCOL value for it.
	Protocol string
	// Endpoint is the OTEL_EXPORTER_OTLP_METRICS_ENDPOINT value for it.
	Endpoint string

	reqs    chan *Request
	failing atomic.Bool
	count   atomic.Int64
}

func newReceiver(protocol string) *Receiver {
	return &Receiver{Protocol: protocol, reqs: make(chan *Request, 64)}
}

// Env is the environment that points an exporter at the receiver.
func (r *Receiver) Env() map[string]string {
	return map[string]string{
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": r.Endpoint,
		"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": r.Protocol,
	}
}

// SetFailing makes the receiver refuse every push (HTTP 400, gRPC
// InvalidArgument: errors an exporter does not retry) or accept them
// again.
func (r *Receiver) SetFailing(failing bool) { r.failing.Store(failing) }

// Count is how many pushes arrived, refused ones included.
func (r *Receiver) Count() int64 { return r.count.Load() }

// deliver hands req to the test; when the test is not reading, the push
// is dropped, as the next one carries the same series.
func (r *Receiver) deliver(req *Request) {
	r.count.Add(1)
	if r.failing.Load() {
		return
	}
	select {
	case r.reqs <- req:
	default:
	}
}

// Wait returns the first accepted push for which cond holds, failing the
// test when none arrives within timeout; the pushes before it are
// consumed.
func (r *Receiver) Wait(t testing.TB, timeout time.Duration, what string, cond func(*Request) bool) *Request {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		select {
		case req := <-r.reqs:
			seen++
			if cond(req) {
				return req
			}
		case <-deadline.C:
			t.Fatalf("no OTLP push with %s within %s (%d pushes received, %d accepted and looked at)", what, timeout, r.Count(), seen)
			return nil
		}
	}
}

// NewHTTP starts a receiver of OTLP/HTTP with protobuf bodies at
// /v1/metrics.
func NewHTTP(t testing.TB) *Receiver {
	r := newReceiver("http/protobuf")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, hr *http.Request) {
		var body io.Reader = hr.Body
		if hr.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(hr.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			defer gz.Close()
			body = gz
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if ct := hr.Header.Get("Content-Type"); ct != "application/x-protobuf" {
			http.Error(w, "content type "+ct+", want application/x-protobuf", http.StatusUnsupportedMediaType)
			return
		}
		req := &Request{}
		if err := proto.Unmarshal(raw, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.deliver(req)
		if r.failing.Load() {
			http.Error(w, "refused by the test", http.StatusBadRequest)
			return
		}
		out, _ := proto.Marshal(&colmetricspb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.Endpoint = srv.URL + "/v1/metrics"
	return r
}

// NewGRPC starts a receiver of OTLP/gRPC, without TLS.
func NewGRPC(t testing.TB) *Receiver {
	r := newReceiver("grpc")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	colmetricspb.RegisterMetricsServiceServer(srv, &metricsService{r: r})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	// The http scheme tells the exporter to dial without TLS.
	r.Endpoint = "http://" + l.Addr().String()
	return r
}

type metricsService struct {
	colmetricspb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s *metricsService) Export(_ context.Context, req *Request) (*colmetricspb.ExportMetricsServiceResponse, error) {
	s.r.deliver(req)
	if s.r.failing.Load() {
		return nil, status.Error(codes.InvalidArgument, "refused by the test")
	}
	return &colmetricspb.ExportMetricsServiceResponse{}, nil
}

// ResourceAttrs are the resource attributes of req's first resource, as
// strings.
func ResourceAttrs(req *Request) map[string]string {
	out := map[string]string{}
	for _, rm := range req.GetResourceMetrics() {
		for _, kv := range rm.GetResource().GetAttributes() {
			out[kv.GetKey()] = valueString(kv.GetValue())
		}
		break
	}
	return out
}

// Value finds the gauge or sum point of the metric name whose attributes
// include attrs ("k=v" pairs); ok is false when there is none.
func Value(req *Request, name string, attrs ...string) (v float64, ok bool) {
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != name {
					continue
				}
				points := m.GetGauge().GetDataPoints()
				if points == nil {
					points = m.GetSum().GetDataPoints()
				}
			next:
				for _, p := range points {
					have := map[string]string{}
					for _, kv := range p.GetAttributes() {
						have[kv.GetKey()] = valueString(kv.GetValue())
					}
					for _, a := range attrs {
						k, want, _ := strings.Cut(a, "=")
						if got, ok := have[k]; !ok || got != want {
							continue next
						}
					}
					if x, isInt := p.GetValue().(*metricspb.NumberDataPoint_AsInt); isInt {
						return float64(x.AsInt), true
					}
					return p.GetAsDouble(), true
				}
			}
		}
	}
	return 0, false
}

func valueString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	default:
		return v.String()
	}
}
