//go:build !linux

package procevents

import (
	"context"
	"fmt"
	"runtime"
)

// Open reports ErrUnsupported: process events are Linux's.
func Open(ctx context.Context, opts ...Option) (*Reader, error) {
	return nil, fmt.Errorf("%w on %s", ErrUnsupported, runtime.GOOS)
}
