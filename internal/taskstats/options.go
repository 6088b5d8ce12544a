package taskstats

import (
	"time"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// Option changes how Open registers.
type Option func(*options)

type options struct {
	nlsock.Options
	cpuPossible string
}

func defaultOptions() options {
	return options{
		Options: nlsock.Options{
			QueueLimit:    4096,
			ReadBuffer:    4 << 20,
			AnswerTimeout: 2 * time.Second,
		},
		cpuPossible: "/sys/devices/system/cpu/possible",
	}
}

func (o options) validate() error { return o.Check("taskstats") }

// WithQueueSize sets how many records may wait for the consumer (default
// 4096) before further ones are dropped and counted. The queue grows to it
// only during a burst, about 200 bytes a record, and shrinks once the
// burst is drained.
func WithQueueSize(n int) Option { return func(o *options) { o.QueueLimit = n } }

// WithReadBuffer sets the socket's receive buffer in bytes (default 4 MiB;
// 0 keeps the system's default). An exit message is about 500 bytes, so
// the default holds some 8,000 exits while the reader is not scheduled.
// It is set with SO_RCVBUFFORCE, which the CAP_NET_ADMIN the registration
// needs allows past net.core.rmem_max.
func WithReadBuffer(bytes int) Option { return func(o *options) { o.ReadBuffer = bytes } }

// WithAnswerTimeout bounds how long Open waits for the kernel to confirm
// the registration (default 2 s) when ctx has no earlier deadline.
func WithAnswerTimeout(d time.Duration) Option { return func(o *options) { o.AnswerTimeout = d } }

// withCPUPossible reads the possible CPUs from path instead of sysfs, for
// tests.
func withCPUPossible(path string) Option { return func(o *options) { o.cpuPossible = path } }
