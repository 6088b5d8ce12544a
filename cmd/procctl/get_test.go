package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	// A field a newer procwatch might write: get must show it.
	version := f.setPayload("/procwatch", `{"globs":["sshd","nginx*"],"future":{"x":1}}`)

	r := mustRun(t, env, "get")
	want := fmt.Sprintf(`version %d
{
  "globs": [
    "sshd",
    "nginx*"
  ],
  "future": {
    "x": 1
  }
}
`, version)
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}

	r = mustRun(t, env, "get", "-o", "json")
	var got struct {
		Version int32           `json:"version"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if got.Version != version {
		t.Errorf("version = %d, want %d", got.Version, version)
	}
	if diff := cmp.Diff(map[string]any{"globs": []any{"sshd", "nginx*"}, "future": map[string]any{"x": 1.0}}, decodeAny(t, got.Payload)); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}

	t.Run("a payload that is not a procwatch document", func(t *testing.T) {
		for doc, reason := range map[string]string{
			`{"globs": [1`:      "not valid JSON",
			`{"globs": "sshd"}`: `not a procwatch document like {"globs": ["sshd"]}`,
		} {
			v := f.setPayload("/procwatch", doc)
			r := run(t, env, "get")
			if r.code != exitFailure {
				t.Fatalf("exit %d, want 1\n%s", r.code, r)
			}
			want := fmt.Sprintf("procctl: the payload at /procwatch/payload (version %d) is not a valid procwatch document: %s", v, reason)
			if !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "fix it with `procctl edit`") {
				t.Errorf("stderr = %q, want prefix %q", r.stderr, want)
			}
			// The commands that build on the list refuse too, pointing at
			// the repairs, and write nothing over the broken document
			// (globs set replaces it: see TestInvalidPayloadShownAndReplaced).
			for _, args := range [][]string{{"globs", "list"}, {"globs", "add", "x"}, {"globs", "rm", "x"}} {
				r := run(t, env, args...)
				if r.code != exitFailure || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "fix it with `procctl edit`") {
					t.Errorf("%v over %s:\n%s", args, doc, r)
				}
				if got, v2 := f.payload("/procwatch"); v2 != v || string(got) != doc {
					t.Errorf("%v wrote over the broken payload: v%d %s", args, v2, got)
				}
			}
		}
	})
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

func TestNoStateHintsInit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, args := range [][]string{
		{"get"}, {"globs", "list"}, {"globs", "add", "x"}, {"globs", "rm", "x"}, {"globs", "set", "x"},
		{"members"}, {"watch"}, {"edit"},
	} {
		r := run(t, envMap{envZK: f.servers, "EDITOR": "false"}, args...)
		if r.code != exitFailure {
			t.Errorf("%v: exit %d, want 1\n%s", args, r.code, r)
		}
		if want := "procctl: no procwatch state at /procwatch — run `procctl init`\n"; r.stderr != want {
			t.Errorf("%v: stderr = %q, want %q", args, r.stderr, want)
		}
	}
	// --path: the flag beats the environment, which beats the default.
	r := run(t, envMap{envZK: f.servers, envPath: "/from-env"}, "get")
	if !strings.Contains(r.stderr, "no procwatch state at /from-env —") {
		t.Errorf("env path not used:\n%s", r)
	}
	r = run(t, envMap{envZK: f.servers, envPath: "/from-env"}, "--path", "/from-flag", "get")
	if !strings.Contains(r.stderr, "no procwatch state at /from-flag —") {
		t.Errorf("flag path does not beat env:\n%s", r)
	}
	// Reading must not have created anything.
	for _, p := range []string{"/procwatch", "/from-env", "/from-flag"} {
		if ok, _, err := f.raw.Exists(p); err != nil || ok {
			t.Errorf("%s exists after read-only commands (err %v)", p, err)
		}
	}
}
