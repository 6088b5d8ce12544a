//go:build !linux

package taskstats

import (
	"context"
	"fmt"
	"runtime"
)

// Open reports ErrUnsupported: exit records are Linux's.
func Open(ctx context.Context, opts ...Option) (*Reader, error) {
	return nil, fmt.Errorf("%w on %s", ErrUnsupported, runtime.GOOS)
}
