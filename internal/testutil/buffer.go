package testutil

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer is an io.Writer safe for concurrent use (a child's output copier,
// a logger) whose readers can wait for a line to appear. The zero value is
// ready to use.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed at the next write; nil when nobody waits
	cursor  int           // lines before it were consumed by Expect
}

// Write appends p and wakes those waiting for a line.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return n, err
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the complete lines written so far and a channel closed at
// the next write.
func (b *Buffer) Lines() ([]string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	s := b.buf.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n"), b.changed
	}
	return nil, b.changed
}

// Expect waits until a line after the last one Expect returned contains
// want, and returns it; lines in between are skipped. It fails the test,
// showing the output so far, when no such line comes within timeout.
func (b *Buffer) Expect(t testing.TB, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		lines, changed := b.Lines()
		b.mu.Lock()
		start := b.cursor
		b.mu.Unlock()
		for i := start; i < len(lines); i++ {
			if strings.Contains(lines[i], want) {
				b.mu.Lock()
				b.cursor = i + 1
				b.mu.Unlock()
				return lines[i]
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no line containing %q within %s; output so far:\n%s", want, timeout, b.String())
		}
	}
}
