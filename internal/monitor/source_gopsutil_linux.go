//go:build linux

package monitor

import (
	"context"

	"github.com/shirou/gopsutil/v4/process"
)

// gopsutilMaps returns the swap and PSS, in bytes, of gopsutil's grouped
// memory maps (smaps_rollup).
func gopsutilMaps(ctx context.Context, p *process.Process) (swap, pss uint64, ok bool) {
	maps, err := p.MemoryMapsWithContext(ctx, true)
	if err != nil || maps == nil || len(*maps) == 0 {
		return 0, 0, false
	}
	return (*maps)[0].Swap << 10, (*maps)[0].Pss << 10, true
}
