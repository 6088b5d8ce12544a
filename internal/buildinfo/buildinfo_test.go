package buildinfo

import (
	"runtime"
	"testing"
)

func TestStampedWins(t *testing.T) {
	if got := Version("1.2.3"); got != "1.2.3" {
		t.Errorf("Version(%q) = %q", "1.2.3", got)
	}
	if got := Revision("abc"); got != "abc" {
		t.Errorf("Revision(%q) = %q", "abc", got)
	}
}

// TestNeverEmpty: a build that stamped nothing still reports a word, so no
// label or log field is ever empty.
func TestNeverEmpty(t *testing.T) {
	if Version("") == "" || Revision("") == "" {
		t.Errorf("Version(\"\") = %q, Revision(\"\") = %q; want words", Version(""), Revision(""))
	}
}

func TestLine(t *testing.T) {
	want := "1.2.3 (revision abc, " + runtime.Version() + ")"
	if got := Line("1.2.3", "abc"); got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
}
