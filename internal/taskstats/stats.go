package taskstats

import "github.com/procwatch/procwatch/internal/nlsock"

// Stats are a Reader's counters since Open, for a caller to export.
type Stats = nlsock.Stats
