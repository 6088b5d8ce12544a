package taskstats

import (
	"fmt"
	"time"
)

// Option changes how Open registers.
type Option func(*options)

type options struct {
	queueSize     int
	readBuffer    int
	answerTimeout time.Duration
	cpuPossible   string
}

func defaultOptions() options {
	return options{
		queueSize:     4096,
		readBuffer:    4 << 20,
		answerTimeout: 2 * time.Second,
		cpuPossible:   "/sys/devices/system/cpu/possible",
	}
}

func (o options) validate() error {
	if o.queueSize < 1 {
		return fmt.Errorf("taskstats: queue size %d: must be at least 1", o.queueSize)
	}
	if o.readBuffer < 0 {
		return fmt.Errorf("taskstats: read buffer %d: must not be negative", o.readBuffer)
	}
	if o.answerTimeout <= 0 {
		return fmt.Errorf("taskstats: answer timeout %v: must be positive", o.answerTimeout)
	}
	return nil
}

// WithQueueSize sets how many records wait for the consumer (default
// 4096) before further ones are dropped and counted. Each queued record
// takes about 200 bytes, held for the Reader's life.
func WithQueueSize(n int) Option { return func(o *options) { o.queueSize = n } }

// WithReadBuffer sets the socket's receive buffer in bytes (default 4 MiB;
// 0 keeps the system's default). An exit message is about 500 bytes, so
// the default holds some 8,000 exits while the reader is not scheduled.
// It is set with SO_RCVBUFFORCE, which the CAP_NET_ADMIN the registration
// needs allows past net.core.rmem_max.
func WithReadBuffer(bytes int) Option { return func(o *options) { o.readBuffer = bytes } }

// WithAnswerTimeout bounds how long Open waits for the kernel to confirm
// the registration (default 2 s) when ctx has no earlier deadline.
func WithAnswerTimeout(d time.Duration) Option { return func(o *options) { o.answerTimeout = d } }

// withCPUPossible reads the possible CPUs from path instead of sysfs, for
// tests.
func withCPUPossible(path string) Option { return func(o *options) { o.cpuPossible = path } }
