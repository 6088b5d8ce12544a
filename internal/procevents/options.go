package procevents

import (
	"time"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// Option changes how Open subscribes.
type Option func(*options)

type options struct {
	nlsock.Options
	threads  bool
	procRoot string
}

func defaultOptions() options {
	return options{
		Options: nlsock.Options{
			QueueLimit:    8192,
			ReadBuffer:    4 << 20,
			AnswerTimeout: 2 * time.Second,
		},
		procRoot: "/proc",
	}
}

func (o options) validate() error { return o.Check("procevents") }

// WithQueueSize sets how many events may wait for the consumer (default
// 8192) before further ones are dropped and counted. Raise it for a
// consumer that pauses for long (a scan of a large /proc) on a host that
// forks fast. The queue grows to it only during a burst, about 80 bytes
// an event, and shrinks once the burst is drained.
func WithQueueSize(n int) Option { return func(o *options) { o.QueueLimit = n } }

// WithReadBuffer sets the socket's receive buffer in bytes (default 4 MiB;
// 0 keeps the system's default). It is what absorbs a burst while the
// reader is not scheduled: the kernel drops events, and the reader counts
// an overrun, when it fills. The reader sets it with SO_RCVBUFFORCE, which
// passes net.core.rmem_max with the CAP_NET_ADMIN the events need anyway,
// and falls back to SO_RCVBUF (capped at rmem_max) without.
func WithReadBuffer(bytes int) Option { return func(o *options) { o.ReadBuffer = bytes } }

// WithThreads delivers the events of every thread. By default only those
// of thread-group leaders (Event.IsProcess) are queued, since forks and
// exits of other threads start or end no process and a threaded server
// makes many.
func WithThreads() Option { return func(o *options) { o.threads = true } }

// WithAnswerTimeout bounds how long Open waits for the kernel to confirm
// the subscription (default 2 s) when ctx has no earlier deadline. The
// kernel silently ignores a request from outside the initial PID or user
// namespace, so no answer is an answer too.
func WithAnswerTimeout(d time.Duration) Option { return func(o *options) { o.AnswerTimeout = d } }

// withProcRoot reads the namespace links under root instead of /proc, for
// tests.
func withProcRoot(root string) Option { return func(o *options) { o.procRoot = root } }
