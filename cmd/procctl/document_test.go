package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// manyGlobs returns n distinct valid globs.
func manyGlobs(n int, prefix string) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return g
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// invalidDocs are documents another client may write that are no watch
// list, with what procctl must say about each.
func invalidDocs(t *testing.T) []struct{ doc, reason string } {
	tooMany, err := json.Marshal(watchlist.Document{Globs: manyGlobs(watchlist.MaxGlobs+1, "g")})
	if err != nil {
		t.Fatal(err)
	}
	return []struct{ doc, reason string }{
		{`{}`, `"globs" is missing or null`},
		{`null`, `"globs" is missing or null`},
		{`{"globs": null}`, `"globs" is missing or null`},
		{`{"glob": ["sshd"]}`, `"globs" is missing or null`},
		{`{"GLOBS": ["sshd"]}`, `key "GLOBS" at the top level matches the field "globs" only when case is ignored; write it "globs"`},
		{`{"globs": ["sshd"], "globs": []}`, `duplicate key "globs" at the top level`},
		{string(tooMany), "2001 globs in one payload, more than the limit of 2000"},
		{`{"globs": [1`, "not valid JSON: line 1, column 13: unexpected end of JSON input"},
		{`{"globs": "sshd"}`, `not a procwatch document like {"globs": ["sshd"]}: line 1, column 17: "globs" must be an array of strings, not a string`},
	}
}

// TestInvalidPayloadShownAndReplaced: a payload that is no watch list is
// shown by get as stored, with why it is invalid (exit 1, since the agents
// do not follow it); the commands that edit the list refuse to build on it
// and write nothing; globs set replaces it.
func TestInvalidPayloadShownAndReplaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	for _, tc := range invalidDocs(t) {
		label := tc.doc
		if len(label) > 40 {
			label = label[:40] + "…"
		}
		t.Run(label, func(t *testing.T) {
			v := f.setPayload("/procwatch", tc.doc)
			diagnosis := fmt.Sprintf("procctl: the payload at /procwatch/payload (version %d) is not a valid procwatch document: %s", v, tc.reason)

			r := run(t, env, "get")
			if r.code != exitFailure {
				t.Errorf("get: exit %d, want 1\n%s", r.code, r)
			}
			if want := fmt.Sprintf("version %d (invalid)\n%s\n", v, pretty([]byte(tc.doc))); r.stdout != want {
				t.Errorf("get stdout (-want +got):\n%s", cmp.Diff(want, r.stdout))
			}
			if !strings.HasPrefix(r.stderr, diagnosis) || !strings.Contains(r.stderr, "`procctl globs set`") {
				t.Errorf("get stderr = %q, want prefix %q and the way to repair", r.stderr, diagnosis)
			}

			r = run(t, env, "get", "-o", "json")
			var got struct {
				Version int32           `json:"version"`
				Payload json.RawMessage `json:"payload"`
				Raw     *string         `json:"raw"`
				Invalid string          `json:"invalid"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != exitFailure {
				t.Fatalf("get -o json: %v\n%s", err, r)
			}
			if got.Version != v || !strings.HasPrefix(got.Invalid, tc.reason) {
				t.Errorf("get -o json: version %d, invalid %q; want %d, %q", got.Version, got.Invalid, v, tc.reason)
			}
			if json.Valid([]byte(tc.doc)) {
				if got.Raw != nil || !sameJSON(got.Payload, []byte(tc.doc)) {
					t.Errorf("get -o json: payload %s, raw %v; want the document as payload", got.Payload, got.Raw)
				}
			} else if got.Payload != nil || got.Raw == nil || *got.Raw != tc.doc {
				t.Errorf("get -o json: payload %s, raw %v; want the text as raw", got.Payload, got.Raw)
			}

			for _, args := range [][]string{{"globs", "list"}, {"globs", "add", "x"}, {"globs", "rm", "sshd"}} {
				r := run(t, env, args...)
				if r.code != exitFailure || !strings.HasPrefix(r.stderr, diagnosis) {
					t.Errorf("%v: want exit 1 and %q\n%s", args, diagnosis, r)
				}
				if doc, v2 := f.payload("/procwatch"); v2 != v || string(doc) != tc.doc {
					t.Errorf("%v wrote over the invalid payload: v%d %s", args, v2, doc)
				}
			}

			r = mustRun(t, env, "globs", "set", "-o", "json", "sshd", "cron")
			var res struct {
				writeJSON
				Replaced *int32 `json:"replaced_invalid_version"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("globs set -o json: %v\n%s", err, r)
			}
			if res.Replaced == nil || *res.Replaced != v || res.Version != v+1 || !res.Changed ||
				!cmp.Equal(res.Globs, []string{"sshd", "cron"}) || !cmp.Equal(res.Added, []string{"sshd", "cron"}) {
				t.Errorf("globs set over version %d: %s", v, r.stdout)
			}
			if doc, v2 := f.payload("/procwatch"); v2 != v+1 || string(doc) != `{"globs":["sshd","cron"]}` {
				t.Errorf("after globs set: v%d %s", v2, doc)
			}
		})
	}

	t.Run("text of a repair", func(t *testing.T) {
		v := f.setPayload("/procwatch", `{"GLOBS": ["sshd"]}`)
		r := mustRun(t, env, "globs", "set", "sshd")
		want := fmt.Sprintf("replaced the invalid payload of version %d; added \"sshd\"; 1 glob at version %d\n", v, v+1)
		if r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
	})
}

// TestGlobLimit: procctl refuses, with exit 2 and nothing written, a list
// beyond MaxGlobs, however it was to be made.
func TestGlobLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")

	r := run(t, env, append([]string{"init"}, manyGlobs(watchlist.MaxGlobs+1, "i")...)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "2001 globs in one payload, more than the limit of 2000; nothing was written") {
		t.Errorf("init beyond the limit:\n%s", r)
	}
	if ok, _, err := f.raw.Exists("/procwatch"); err != nil || ok {
		t.Errorf("init beyond the limit created the state (err %v)", err)
	}

	mustRun(t, env, "init", "sshd")
	mustRun(t, env, append([]string{"globs", "set"}, manyGlobs(watchlist.MaxGlobs, "s")...)...)
	doc, version := f.payload("/procwatch")
	for _, args := range [][]string{
		append([]string{"globs", "set"}, manyGlobs(watchlist.MaxGlobs+1, "s")...),
		{"globs", "add", "one-more"},
		{"globs", "add", "-o", "json", "one-more", "and-another"},
	} {
		r := run(t, env, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "in one payload, more than the limit of 2000; nothing was written") {
			t.Errorf("%s …: want exit 2 naming the limit\n%s", strings.Join(args[:3], " "), r)
		}
		if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
			t.Errorf("%s …: the payload changed to version %d", strings.Join(args[:3], " "), v2)
		}
	}
	// At the limit, rm and a set of the same size still work.
	mustRun(t, env, "globs", "rm", "s0")
	mustRun(t, env, "globs", "add", "s0")
}

// TestTooLargeIsInvalidInput: a list within the glob limit whose document
// would not fit in a ZooKeeper node is the operator's input to change, not
// a failure to retry: exit 2, nothing written.
func TestTooLargeIsInvalidInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	doc, version := f.payload("/procwatch")
	long := manyGlobs(1500, strings.Repeat("x", 800))
	r := run(t, env, append([]string{"globs", "set"}, long...)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "too large") || !strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("exit %d, want 2 saying the document is too large and nothing was written\nstderr: %s", r.code, r.stderr)
	}
	if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
		t.Errorf("the payload changed to version %d", v2)
	}
}

// TestEphemeralPayloadWarns: a payload created as an ephemeral node (by a
// careless zkCli `create -e`) vanishes with its owner's session, and with
// it whatever procctl writes: every write says so.
func TestEphemeralPayloadWarns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/eph")
	if _, err := f.raw.Create("/eph", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.raw.Create("/eph/payload", []byte(`{"globs":["sshd"]}`), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	const warning = "procctl: warning: /eph/payload is an ephemeral node, owned by ZooKeeper session 0x"
	for _, args := range [][]string{{"globs", "add", "cron"}, {"globs", "rm", "cron"}, {"globs", "set", "atd"}} {
		r := mustRun(t, env, args...)
		if !strings.Contains(r.stderr, warning) || !strings.Contains(r.stderr, "create it as a persistent node") {
			t.Errorf("%v: no warning about the ephemeral payload:\n%s", args, r)
		}
	}
	if doc, _ := f.payload("/eph"); string(doc) != `{"globs":["atd"]}` {
		t.Errorf("payload %s", doc)
	}
	// Reading warns of nothing: only a write is lost with the node.
	if r := mustRun(t, env, "get"); r.stderr != "" {
		t.Errorf("get warns:\n%s", r)
	}
	// A persistent payload draws no warning.
	penv := f.env("/procwatch")
	mustRun(t, penv, "init", "sshd")
	if r := mustRun(t, penv, "globs", "add", "cron"); r.stderr != "" {
		t.Errorf("a write to a persistent payload warns:\n%s", r)
	}
}
