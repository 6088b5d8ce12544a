package testutil

import (
	"fmt"
	"testing"
	"time"
)

func TestBufferExpect(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		fmt.Fprint(&b, "partial")
	}()
	if got := b.Expect(t, "line 1", 10*time.Second); got != "line 1" {
		t.Errorf("Expect = %q, want line 1", got)
	}
	// A line already returned is not returned again.
	if got := b.Expect(t, "line", 10*time.Second); got != "line 2" {
		t.Errorf("Expect after line 1 = %q, want line 2", got)
	}
	<-done
	if lines, _ := b.Lines(); len(lines) != 3 {
		t.Errorf("Lines = %q, want the three complete lines only", lines)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, 10*time.Second, "three looks", func() bool { n++; return n >= 3 })
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
}
