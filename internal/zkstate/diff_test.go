package zkstate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procwatch/procwatch/internal/jsondiff"
)

// TestDiffIsJSONDiff checks that Diff hands on jsondiff's changes as they
// are: the same values, of the same type, so that an Event's Changes and a
// direct jsondiff.Diff can be mixed. jsondiff's own tests cover the diff.
func TestDiffIsJSONDiff(t *testing.T) {
	old := []byte(`{"globs":["a","b","c"],"n":1}`)
	new := []byte(`{"n":2, "globs":["a","c","d"]}`)
	got, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Kind: Removed, Path: "/globs/1", Old: json.RawMessage(`"b"`)},
		{Kind: Added, Path: "/globs/2", New: json.RawMessage(`"d"`)},
		{Kind: Modified, Path: "/n", Old: json.RawMessage(`1`), New: json.RawMessage(`2`)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	var direct []jsondiff.Change
	if direct, err = jsondiff.Diff(old, new); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(direct, got); diff != "" {
		t.Errorf("zkstate.Diff against jsondiff.Diff (-jsondiff +zkstate):\n%s", diff)
	}

	if same, err := Diff([]byte(`{"a":1,"b":[]}`), []byte(` { "b" : [ ], "a" : 1.0 } `)); same != nil || err != nil {
		t.Errorf("Diff of equal documents = %v, %v; want nil, nil", same, err)
	}
}

// TestDiffErrorMessage checks that an invalid document is reported in
// zkstate's words, saying which document and why.
func TestDiffErrorMessage(t *testing.T) {
	_, err := Diff([]byte(`{"a":1}`), []byte(`{"a":1,}`))
	want := `zkstate: diff: new document: invalid character '}' looking for beginning of object key string at offset 7`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = Diff([]byte(`[1,`), []byte(`[]`))
	want = `zkstate: diff: old document: unexpected end of JSON input`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}

	for _, doc := range []string{"", "{", `{"a":}`, "01", "nul", `"\x"`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		_, err := Diff([]byte(doc), []byte(`{}`))
		if err == nil || !strings.HasPrefix(err.Error(), "zkstate: diff: old document: ") {
			t.Errorf("Diff(%.20q, {}) error = %v, want one about the old document", doc, err)
		}
		_, err = Diff([]byte(`{}`), []byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), "zkstate: diff: new document: ") {
			t.Errorf("Diff({}, %.20q) error = %v, want one about the new document", doc, err)
		}
	}
}
