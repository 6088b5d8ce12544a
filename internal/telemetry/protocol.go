package telemetry

import (
	"fmt"
	"os"
)

// OTLP protocols, as OTEL_EXPORTER_OTLP_PROTOCOL names them.
const (
	protoHTTP = "http/protobuf"
	protoGRPC = "grpc"
)

// otlpProtocol returns the OTLP protocol of a signal ("TRACES", "METRICS"):
// OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL,
// else http/protobuf, the specification's default. Anything else is an
// error rather than a silent fallback, so a typo does not send the data
// where nobody listens.
func otlpProtocol(signal string) (string, error) {
	p := os.Getenv("OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL")
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", protoHTTP:
		return protoHTTP, nil
	case protoGRPC:
		return protoGRPC, nil
	}
	return "", fmt.Errorf("telemetry: OTLP protocol %q is not supported (http/protobuf or grpc)", p)
}
