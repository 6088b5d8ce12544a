package nlsock

import (
	"fmt"
	"time"
)

// Options are the settings both readers take: how many messages may wait
// for the consumer, how large the socket's receive buffer is, and how long
// Open waits for the kernel's answer.
type Options struct {
	// QueueLimit is how many messages may wait for the consumer before
	// further ones are dropped and counted.
	QueueLimit int
	// ReadBuffer is the socket's receive buffer in bytes; 0 keeps the
	// system's default.
	ReadBuffer int
	// AnswerTimeout bounds the wait for the kernel to confirm the
	// subscription.
	AnswerTimeout time.Duration
}

// Check says, in the words of the package pkg, which setting is out of
// range.
func (o Options) Check(pkg string) error {
	switch {
	case o.QueueLimit < 1:
		return fmt.Errorf("%s: queue size %d: must be at least 1", pkg, o.QueueLimit)
	case o.ReadBuffer < 0:
		return fmt.Errorf("%s: read buffer %d: must not be negative", pkg, o.ReadBuffer)
	case o.AnswerTimeout <= 0:
		return fmt.Errorf("%s: answer timeout %v: must be positive", pkg, o.AnswerTimeout)
	}
	return nil
}
