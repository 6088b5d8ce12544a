package agent

import "github.com/procwatch/procwatch/internal/zkstate"

// What the external tests (package agent_test, which can use agenttest
// without an import cycle) need of the package's inside.

// ReadCache is readCache.
var ReadCache = readCache

// SourceChange is the procwatch.source of a rematch on a change event.
const SourceChange = sourceChange

// WithStoreOptions returns cfg with opts appended to the Store's options,
// as a test that needs a shorter staleness bound sets them.
func WithStoreOptions(cfg Config, opts ...zkstate.Option) Config {
	cfg.storeOptions = append(cfg.storeOptions, opts...)
	return cfg
}
