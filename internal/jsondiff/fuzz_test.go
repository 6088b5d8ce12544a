package jsondiff

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDiff checks, for any pair of inputs, that Diff fails exactly when one
// of them is not valid JSON, and that otherwise its changes replay old into
// new (see checkDiff). The seeds run as part of the ordinary tests.
func FuzzDiff(f *testing.F) {
	for _, tc := range diffCases {
		f.Add([]byte(tc.old), []byte(tc.new))
	}
	seeds := [][2]string{
		{`{"globs":["systemd*","rsync*"]}`, `{"globs":["rsync*","sshd*","systemd*"]}`},
		{`[1,2,3,1,2,3]`, `[3,2,1,3,2,1]`},
		{`[{"a":[1,{"b":[]}]},2]`, `[2,{"a":[1,{"b":[null]}]}]`},
		{`{"a":{"a":{"a":1}}}`, `{"a":{"a":[1]},"b":{"a":{"a":1}}}`},
		{`[0,-0,0.0,1e400,1E-400]`, `[0e5,0,-0.0,10e399,0.1e-399]`},
		{`["\ud800","\udc00\ud800","\xff"]`, `["\ufffd","\ufffd\ufffd","x"]`},
		{`{"~":{"/":[1]}}`, `{"~":{"/":[2]},"~0":1}`},
		{`[[],[[]],[[[]]]]`, `[[[[]]],[[]],[]]`},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "[]"},
		{`{"a":1}`, `{"a":1,}`},
		{`[1e99999999999999999999]`, `[10e99999999999999999998]`},
		{"", "null"},
		{"nul", "null"},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, old, new []byte) {
		changes, err := Diff(old, new)
		if !json.Valid(old) || !json.Valid(new) {
			if err == nil {
				t.Fatalf("Diff(%q, %q) accepted invalid JSON: %v", old, new, changes)
			}
			return
		}
		if err != nil {
			t.Fatalf("Diff(%q, %q): %v", old, new, err)
		}
		checkDiff(t, old, new)
	})
}
