package testutil

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually looks: often enough that a test does
// not idle, seldom enough not to load a machine running many tests.
const pollEvery = 20 * time.Millisecond

// Eventually polls cond until it holds, for state that offers no event to
// wait on (a node appearing on a server, an HTTP answer). It fails the test
// after within, naming what it waited for.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	EventuallySaying(t, within, what, func() (bool, string) { return cond(), "" })
}

// EventuallySaying is Eventually for a condition that describes what it
// saw, so that a timeout says how far things got. stop, when not nil, is
// asked after each failed look whether waiting is pointless (a process it
// needed has exited); its message then fails the test at once.
func EventuallySaying(t testing.TB, within time.Duration, what string, cond func() (bool, string), stop ...func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		for _, s := range stop {
			if dead, why := s(); dead {
				t.Fatalf("waiting for %s: %s; last seen: %s", what, why, seen)
			}
		}
		if time.Now().After(deadline) {
			if seen == "" {
				t.Fatalf("timed out after %v waiting for %s", within, what)
			}
			t.Fatalf("timed out after %v waiting for %s; last seen: %s", within, what, seen)
		}
		time.Sleep(pollEvery)
	}
}
