// Package testutil holds the few helpers every test package of procwatch
// needs: a buffer that a process or logger and the test may share, and a
// bounded wait for state that offers no event to wait on. Tests wait on
// output and on conditions, never on the clock.
package testutil
