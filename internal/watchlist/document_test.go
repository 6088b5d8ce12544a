package watchlist

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/pattern"
)

func TestDocumentJSON(t *testing.T) {
	var w Document
	if err := json.Unmarshal([]byte(`{"globs": ["systemd*", "rsync*"], "future": 1}`), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Document{Globs: []string{"systemd*", "rsync*"}}, w); diff != "" {
		t.Errorf("decoded mismatch (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(Document{Globs: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"globs":["a"]}` {
		t.Errorf("encoded %s", out)
	}
}

func TestDocumentCheck(t *testing.T) {
	atLimit := make([]string, MaxGlobs)
	for i := range atLimit {
		atLimit[i] = fmt.Sprintf("g%d", i)
	}
	for _, tt := range []struct {
		name string
		in   string
		want error
	}{
		{"empty list written so", `{"globs": []}`, nil},
		{"a list", `{"globs": ["sshd", "[not-a-glob"]}`, nil},
		{"no globs", `{}`, ErrGlobsMissing},
		{"null globs", `{"globs": null}`, ErrGlobsMissing},
		{"null document", `null`, ErrGlobsMissing},
		{"a typo", `{"glob": ["sshd"]}`, ErrGlobsMissing},
		{"at the limit", mustJSON(t, Document{Globs: atLimit}), nil},
		{"one beyond", mustJSON(t, Document{Globs: append(atLimit, "one-more")}), &TooManyGlobsError{N: MaxGlobs + 1}},
		{"duplicates count", mustJSON(t, Document{Globs: append(atLimit, "g0")}), &TooManyGlobsError{N: MaxGlobs + 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w Document
			if err := json.Unmarshal([]byte(tt.in), &w); err != nil {
				t.Fatal(err)
			}
			err := w.Check()
			if diff := cmp.Diff(errText(tt.want), errText(err)); diff != "" {
				t.Errorf("Check() (-want +got):\n%s", diff)
			}
			if tt.want == ErrGlobsMissing && !errors.Is(err, ErrGlobsMissing) {
				t.Errorf("errors.Is(%v, ErrGlobsMissing) = false", err)
			}
			// Validate applies the same rules first (and then looks at the
			// globs, which Check leaves to the agent's Compile).
			if tt.want == nil {
				return
			}
			if diff := cmp.Diff(errText(tt.want), errText(w.Validate())); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
	if msg := (&TooManyGlobsError{N: 2001}).Error(); msg != "2001 globs in one payload, more than the limit of 2000" {
		t.Errorf("message %q", msg)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDocumentValidate(t *testing.T) {
	if err := (Document{}).Validate(); !errors.Is(err, ErrGlobsMissing) {
		t.Errorf("Document{}.Validate() = %v, want ErrGlobsMissing", err)
	}
	for _, ok := range []Document{{Globs: []string{}}, {Globs: []string{"nginx", "/usr/sbin/*", "cmdline:*x*", "nginx"}}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", ok, err)
		}
	}
	err := Document{Globs: []string{"good", "[bad", "also good", "{worse", "[bad"}}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	if !errors.Is(err, pattern.ErrInvalid) {
		t.Errorf("errors.Is(%v, pattern.ErrInvalid) = false", err)
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

func TestInvalidGlobsErrorNamesEachGlob(t *testing.T) {
	err := ValidateGlobs([]string{"ok", "[", "[", ""})
	var ie *InvalidGlobsError
	if !errors.As(err, &ie) {
		t.Fatalf("ValidateGlobs = %v, want an *InvalidGlobsError", err)
	}
	var got []string
	for _, pe := range ie.Globs {
		got = append(got, pe.Glob)
	}
	if diff := cmp.Diff([]string{"[", ""}, got); diff != "" {
		t.Errorf("invalid globs (-want +got):\n%s", diff)
	}
	if ValidateGlobs([]string{"ok", "/usr/sbin/*"}) != nil {
		t.Error("ValidateGlobs of valid globs is not nil")
	}
}
