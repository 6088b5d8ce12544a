package monitor

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWatchListJSON(t *testing.T) {
	var w WatchList
	if err := json.Unmarshal([]byte(`{"globs": ["systemd*", "rsync*"], "future": 1}`), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(WatchList{Globs: []string{"systemd*", "rsync*"}}, w); diff != "" {
		t.Errorf("decoded mismatch (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(WatchList{Globs: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"globs":["a"]}` {
		t.Errorf("encoded %s", out)
	}
}

func TestWatchListValidate(t *testing.T) {
	for _, ok := range []WatchList{{}, {Globs: []string{}}, {Globs: []string{"nginx", "/usr/sbin/*", "cmdline:*x*", "nginx"}}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", ok, err)
		}
	}
	err := WatchList{Globs: []string{"good", "[bad", "also good", "{worse", "[bad"}}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	if !errors.Is(err, ErrInvalidGlob) {
		t.Errorf("errors.Is(%v, ErrInvalidGlob) = false", err)
	}
	msg := err.Error()
	for _, g := range []string{`"[bad"`, `"{worse"`} {
		if !strings.Contains(msg, g) {
			t.Errorf("error %q does not name %s", msg, g)
		}
	}
	if strings.Count(msg, `"[bad"`) != 1 || strings.Contains(msg, "good") {
		t.Errorf("error %q should name each invalid glob once and no valid one", msg)
	}
}
