//go:build !linux

package monitor

import (
	"context"

	"github.com/shirou/gopsutil/v4/process"
)

// gopsutilMaps has nothing to read off Linux, where gopsutil's memory maps
// carry no swap or PSS.
func gopsutilMaps(context.Context, *process.Process) (swap, pss uint64, ok bool) {
	return 0, 0, false
}
