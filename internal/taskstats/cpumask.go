package taskstats

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// possibleCPUs reads the kernel's list of possible CPUs ("0-63", or
// "0,2-5"), the mask the registration names: the kernel sends a task's
// exit record to the listeners registered on the CPU it exits on, so a
// mask of every possible CPU (those that may come online later too)
// misses none.
func possibleCPUs(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("taskstats: reading the possible CPUs: %w", err)
	}
	mask := strings.TrimSpace(string(b))
	if err := checkCPUList(mask); err != nil {
		return "", fmt.Errorf("taskstats: %s: %w", path, err)
	}
	return mask, nil
}

// checkCPUList checks the kernel's cpulist format: ranges and single
// CPUs separated by commas.
func checkCPUList(s string) error {
	if s == "" {
		return fmt.Errorf("empty CPU list")
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return fmt.Errorf("CPU list %q: %q is not a CPU", s, part)
		}
		if isRange {
			b, err := strconv.ParseUint(hi, 10, 16)
			if err != nil || b < a {
				return fmt.Errorf("CPU list %q: %q is not a range", s, part)
			}
		}
	}
	return nil
}
