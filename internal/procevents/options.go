package procevents

import (
	"fmt"
	"time"
)

// Option changes how Open subscribes.
type Option func(*options)

type options struct {
	queueSize     int
	readBuffer    int
	threads       bool
	answerTimeout time.Duration
	procRoot      string
}

func defaultOptions() options {
	return options{
		queueSize:     8192,
		readBuffer:    4 << 20,
		answerTimeout: 2 * time.Second,
		procRoot:      "/proc",
	}
}

func (o options) validate() error {
	if o.queueSize < 1 {
		return fmt.Errorf("procevents: queue size %d: must be at least 1", o.queueSize)
	}
	if o.readBuffer < 0 {
		return fmt.Errorf("procevents: read buffer %d: must not be negative", o.readBuffer)
	}
	if o.answerTimeout <= 0 {
		return fmt.Errorf("procevents: answer timeout %v: must be positive", o.answerTimeout)
	}
	return nil
}

// WithQueueSize sets how many events wait for the consumer (default 8192)
// before further ones are dropped and counted. Raise it for a consumer
// that pauses for long (a scan of a large /proc) on a host that forks
// fast; each queued event takes about 80 bytes, held for the Reader's
// life.
func WithQueueSize(n int) Option { return func(o *options) { o.queueSize = n } }

// WithReadBuffer sets the socket's receive buffer in bytes (default 4 MiB;
// 0 keeps the system's default). It is what absorbs a burst while the
// reader is not scheduled: the kernel drops events, and the reader counts
// an overrun, when it fills. The reader sets it with SO_RCVBUFFORCE, which
// passes net.core.rmem_max with the CAP_NET_ADMIN the events need anyway,
// and falls back to SO_RCVBUF (capped at rmem_max) without.
func WithReadBuffer(bytes int) Option { return func(o *options) { o.readBuffer = bytes } }

// WithThreads delivers the events of every thread. By default only those
// of thread-group leaders (Event.IsProcess) are queued, since forks and
// exits of other threads start or end no process and a threaded server
// makes many.
func WithThreads() Option { return func(o *options) { o.threads = true } }

// WithAnswerTimeout bounds how long Open waits for the kernel to confirm
// the subscription (default 2 s) when ctx has no earlier deadline. The
// kernel silently ignores a request from outside the initial PID or user
// namespace, so no answer is an answer too.
func WithAnswerTimeout(d time.Duration) Option { return func(o *options) { o.answerTimeout = d } }

// withProcRoot reads the namespace links under root instead of /proc, for
// tests.
func withProcRoot(root string) Option { return func(o *options) { o.procRoot = root } }
