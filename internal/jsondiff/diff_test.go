package jsondiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"github.com/procwatch/procwatch/internal/jsondiff/jsondifftest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func wantAdded(path, v string) Change {
	return Change{Kind: Added, Path: path, New: json.RawMessage(v)}
}

func wantRemoved(path, v string) Change {
	return Change{Kind: Removed, Path: path, Old: json.RawMessage(v)}
}

func wantModified(path, o, n string) Change {
	return Change{Kind: Modified, Path: path, Old: json.RawMessage(o), New: json.RawMessage(n)}
}

// diffCases are shared by the table test, the replay test and the fuzz seeds.
var diffCases = []struct {
	name     string
	old, new string
	want     []Change
}{
	{"equal", `{"globs":["a","b"]}`, `{"globs":["a","b"]}`, nil},
	{
		"equal apart from spacing and key order",
		`{"a":1,"b":[1,2],"c":{"x":null,"y":"z"}}`,
		" { \"c\" : { \"y\":\"z\", \"x\" : null } ,\n\t\"b\" : [ 1 , 2 ] , \"a\" : 1 }\r\n",
		nil,
	},
	{"equal numbers spelled differently", `[1, 1.0, 100, 0, 0.5, -2, 0.001]`, `[1e0, 10e-1, 1E2, -0, 5e-1, -2.000, 1e-3]`, nil},
	{"integers beyond float64", `{"n":9007199254740993}`, `{"n":9007199254740992}`, []Change{wantModified("/n", "9007199254740993", "9007199254740992")}},
	{"equal strings escaped differently", `["A","/","é","\ud83d\ude00"]`, `["\u0041","\/","\u00e9","😀"]`, nil},
	{"equal with duplicate keys", `{"a":1,"a":2}`, `{"a":2}`, nil},
	{"duplicate key last wins", `{"a":1,"a":2}`, `{"a":1}`, []Change{wantModified("/a", "2", "1")}},

	{"insert at front", `{"globs":["b","c"]}`, `{"globs":["a","b","c"]}`, []Change{wantAdded("/globs/0", `"a"`)}},
	{"append", `{"globs":["a","b"]}`, `{"globs":["a","b","c"]}`, []Change{wantAdded("/globs/2", `"c"`)}},
	{"remove middle", `{"globs":["a","b","c"]}`, `{"globs":["a","c"]}`, []Change{wantRemoved("/globs/1", `"b"`)}},
	{"remove first", `{"globs":["a","b","c"]}`, `{"globs":["b","c"]}`, []Change{wantRemoved("/globs/0", `"a"`)}},
	{"remove last", `{"globs":["a","b","c"]}`, `{"globs":["a","b"]}`, []Change{wantRemoved("/globs/2", `"c"`)}},
	{"remove run", `{"globs":["a","b","c","d"]}`, `{"globs":["a","d"]}`, []Change{wantRemoved("/globs/2", `"c"`), wantRemoved("/globs/1", `"b"`)}},
	{"insert run", `["a","d"]`, `["a","b","c","d"]`, []Change{wantAdded("/1", `"b"`), wantAdded("/2", `"c"`)}},
	{"remove all", `["a","b"]`, `[]`, []Change{wantRemoved("/1", `"b"`), wantRemoved("/0", `"a"`)}},
	{"rotate right", `{"globs":["a","b","c"]}`, `{"globs":["c","a","b"]}`, []Change{wantAdded("/globs/0", `"c"`), wantRemoved("/globs/3", `"c"`)}},
	{"rotate left", `{"globs":["a","b","c"]}`, `{"globs":["b","c","a"]}`, []Change{wantRemoved("/globs/0", `"a"`), wantAdded("/globs/2", `"a"`)}},
	{"replace one", `{"globs":["a","b","c"]}`, `{"globs":["a","x","c"]}`, []Change{wantModified("/globs/1", `"b"`, `"x"`)}},
	{"replace all", `["a","b"]`, `["x","y"]`, []Change{wantModified("/0", `"a"`, `"x"`), wantModified("/1", `"b"`, `"y"`)}},
	{"two out one in", `["a","b","c","d"]`, `["a","x","d"]`, []Change{wantModified("/1", `"b"`, `"x"`), wantRemoved("/2", `"c"`)}},
	{"one out two in", `["a","b","d"]`, `["a","x","y","d"]`, []Change{wantModified("/1", `"b"`, `"x"`), wantAdded("/2", `"y"`)}},
	{"several gaps", `["a","b","c","d","e"]`, `["a","c","x","e"]`, []Change{wantRemoved("/1", `"b"`), wantModified("/2", `"d"`, `"x"`)}},
	{"several gaps shifting", `[1,2,3,4,5,6]`, `[0,1,3,4,7,5]`, []Change{wantAdded("/0", "0"), wantRemoved("/2", "2"), wantAdded("/4", "7"), wantRemoved("/6", "6")}},

	{"object in array modified", `[{"n":1,"v":2}]`, `[{"n":1,"v":3}]`, []Change{wantModified("/0/v", "2", "3")}},
	{"object removed from array", `[{"n":1},{"n":2},{"n":3}]`, `[{"n":1},{"n":3}]`, []Change{wantRemoved("/1", `{"n":2}`)}},
	{"objects paired in a gap", `[{"n":1,"v":2},{"n":2}]`, `[{"n":1,"v":3}]`, []Change{wantModified("/0/v", "2", "3"), wantRemoved("/1", `{"n":2}`)}},
	{
		"nested objects",
		`{"a":{"b":{"c":1,"e":"x"}}}`,
		`{"a":{"b":{"c":2,"d":true,"e":"x"}}}`,
		[]Change{wantModified("/a/b/c", "1", "2"), wantAdded("/a/b/d", "true")},
	},
	{
		"keys in sorted order",
		`{"z":0,"c":2,"b":1}`,
		`{"c":3,"a":0,"z":0}`,
		[]Change{wantAdded("/a", "0"), wantRemoved("/b", "1"), wantModified("/c", "2", "3")},
	},
	{
		"arrays in objects",
		`{"x":{"list":[1,2,3]},"y":[]}`,
		`{"x":{"list":[1,3]},"y":[[]]}`,
		[]Change{wantRemoved("/x/list/1", "2"), wantAdded("/y/0", "[]")},
	},
	{"arrays in arrays", `[[1,2],[3]]`, `[[1,2,5],[3]]`, []Change{wantAdded("/0/2", "5")}},
	{"arrays in arrays paired", `[[1,2],[3]]`, `[[1,9],[3]]`, []Change{wantModified("/0/1", "2", "9")}},

	{"object to array", `{"a":{"b":1}}`, `{"a":[1]}`, []Change{wantModified("/a", `{"b":1}`, "[1]")}},
	{"array to object", `{"a":[]}`, `{"a":{}}`, []Change{wantModified("/a", "[]", "{}")}},
	{"string to number", `{"a":"1"}`, `{"a":1}`, []Change{wantModified("/a", `"1"`, "1")}},
	{"to null", `{"a":[1,2]}`, `{"a":null}`, []Change{wantModified("/a", "[1,2]", "null")}},
	{"from null", `{"a":null}`, `{"a":{"b":1}}`, []Change{wantModified("/a", "null", `{"b":1}`)}},
	{"bool", `{"a":true}`, `{"a":false}`, []Change{wantModified("/a", "true", "false")}},
	{"array element type change", `[1,"x",null]`, `[1,["x"],null]`, []Change{wantModified("/1", `"x"`, `["x"]`)}},

	{
		"key escaping",
		`{"a/b":1,"m~n":2,"~1":3}`,
		`{"a/b":2,"m~n":3,"~1":4}`,
		[]Change{wantModified("/a~1b", "1", "2"), wantModified("/m~0n", "2", "3"), wantModified("/~01", "3", "4")},
	},
	{"empty key", `{"":1}`, `{"":2}`, []Change{wantModified("/", "1", "2")}},
	{"escaped key", `{"a\u002fb":1}`, `{"a/b":2}`, []Change{wantModified("/a~1b", "1", "2")}},
	{"unicode key", `{"ü":1}`, `{"ü":1,"ß":2}`, []Change{wantAdded("/ß", "2")}},

	{"whole document number", `1`, `2`, []Change{wantModified("", "1", "2")}},
	{"whole document string", `"a"`, `"b"`, []Change{wantModified("", `"a"`, `"b"`)}},
	{"whole document type", `"x"`, ` {"a" : 1} `, []Change{wantModified("", `"x"`, `{"a":1}`)}},
	{"whole document array to object", `[]`, `{}`, []Change{wantModified("", "[]", "{}")}},

	{"empty array grows", `[]`, `[1]`, []Change{wantAdded("/0", "1")}},
	{"empty object grows", `{}`, `{"a":1}`, []Change{wantAdded("/a", "1")}},
	{"array empties", `[1]`, `[]`, []Change{wantRemoved("/0", "1")}},
	{"object empties", `{"a":1}`, `{}`, []Change{wantRemoved("/a", "1")}},
	{"values are compact", `{"a": [1, 2]}`, `{"a": {"x": 1}}`, []Change{wantModified("/a", "[1,2]", `{"x":1}`)}},
	{"spaces in strings kept", `[]`, `[ {"k" : "v w", "e": "\" ]"} ]`, []Change{wantAdded("/0", `{"k":"v w","e":"\" ]"}`)}},
	{"values as written", `{"n":1.50}`, `{"n":[1.50, "\u0041"]}`, []Change{wantModified("/n", "1.50", `[1.50,"\u0041"]`)}},
	{"whitespace around document", "  [1]\n", "[1,2]", []Change{wantAdded("/1", "2")}},
}

func TestDiff(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Diff([]byte(tc.old), []byte(tc.new))
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Diff(%s, %s) (-want +got):\n%s", tc.old, tc.new, diff)
			}
		})
	}
}

// TestDiffReplays checks the invariant callers rely on to follow a document:
// replaying the changes onto the old document gives the new one, in both
// directions, and a document never differs from itself.
func TestDiffReplays(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			checkDiff(t, []byte(tc.old), []byte(tc.new))
			checkDiff(t, []byte(tc.new), []byte(tc.old))
		})
	}
}

func TestDiffInvalid(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	invalid := []string{
		"", " ", "{", "}", "[", "]", `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{1:2}`,
		"[1,]", "[,1]", "[1 2]", "[1]]", "{} {}", "1 2",
		"01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "1.e3", "0x10", "NaN", "Infinity", "-Infinity",
		"tru", "nul", "True", "nulll", "fals",
		`"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\nb\"", "\"a\x00\"", `"\`,
		"\xef\xbb\xbf[]", "\x00", "'a'",
		deep(jsonMaxDepth + 1),
		`{"a":` + deep(jsonMaxDepth) + `}`,
	}
	for _, doc := range invalid {
		if json.Valid([]byte(doc)) {
			t.Errorf("test bug: %q is valid JSON", doc)
		}
		_, err := Diff([]byte(doc), []byte(`{}`))
		if de, ok := errors.AsType[*DocumentError](err); !ok || de.Doc != "old" || !strings.HasPrefix(err.Error(), "jsondiff: old document: ") {
			t.Errorf("Diff(%q, {}) error = %v, want one about the old document", doc, err)
		}
		_, err = Diff([]byte(`{}`), []byte(doc))
		if de, ok := errors.AsType[*DocumentError](err); !ok || de.Doc != "new" || !strings.HasPrefix(err.Error(), "jsondiff: new document: ") {
			t.Errorf("Diff({}, %q) error = %v, want one about the new document", doc, err)
		}
		if _, err := Diff([]byte(doc), []byte(doc)); err == nil {
			t.Errorf("Diff(%q, itself) succeeded", doc)
		}
	}

	// The limit is encoding/json's: as deep as it decodes, and no deeper.
	ok := deep(jsonMaxDepth)
	if !json.Valid([]byte(ok)) {
		t.Fatal("test bug: encoding/json's depth limit changed")
	}
	if _, err := Diff([]byte(ok), []byte(`[]`)); err != nil {
		t.Errorf("Diff at the depth limit: %v", err)
	}
}

func TestDiffErrorMessage(t *testing.T) {
	_, err := Diff([]byte(`{"a":1}`), []byte(`{"a":1,}`))
	want := `jsondiff: new document: invalid character '}' looking for beginning of object key string at offset 7`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = Diff([]byte(`[1,`), []byte(`[]`))
	want = `jsondiff: old document: unexpected end of JSON input`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestDiffCopiesValues guards against returning slices of the caller's
// buffers, which the caller may reuse for the next document.
func TestDiffCopiesValues(t *testing.T) {
	old := []byte(`{"a":[1,2],"b":"x"}`)
	new := []byte(`{"a":[1,3],"b":{"y":1}}`)
	got, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	for i := range old {
		old[i] = ' '
	}
	for i := range new {
		new[i] = ' '
	}
	want := []Change{wantModified("/a/1", "2", "3"), wantModified("/b", `"x"`, `{"y":1}`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes after overwriting the inputs (-want +got):\n%s", diff)
	}
	// Appending to one value must not overwrite the next.
	_ = append(got[0].New, "garbage"...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes after appending to a value (-want +got):\n%s", diff)
	}
}

// TestDiffConcurrent runs Diff from many goroutines at once, as the
// subscribers of several zkstate stores do; with -race it checks that the
// pooled working memory is never shared.
func TestDiffConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 50 {
				tc := diffCases[(g*50+k)%len(diffCases)]
				got, err := Diff([]byte(tc.old), []byte(tc.new))
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
					return
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.name, diff)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDiffBenchDocument checks the benchmark's megabyte document: every
// changed item is found as exactly the change that was made, and the result
// replays.
func TestDiffBenchDocument(t *testing.T) {
	old, new := jsondifftest.DiffDocs()
	changes := checkDiff(t, old, new)
	items := bytes.Count(old, []byte(`{"id":`))
	var want []Change
	shift := 0 // new index minus old index
	for i := 0; i < items; i += 100 {
		at := strconv.Itoa(i + shift)
		switch i / 100 % 3 {
		case 0:
			want = append(want, wantModified("/items/"+at+"/weight", strconv.Itoa(i%7), strconv.Itoa(i%7+1)))
		case 1:
			want = append(want, wantRemoved("/items/"+at, fmt.Sprintf(`{"id":%d,"glob":"svc-%05d*","enabled":true,"weight":%d}`, i, i, i%7)))
			shift--
		case 2:
			want = append(want, wantAdded("/items/"+at, fmt.Sprintf(`{"id":%d,"glob":"svc-%05d*","enabled":true,"weight":0}`, 1_000_000+i, 1_000_000+i)))
			shift++
		}
	}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("Diff of the benchmark document (-want +got):\n%s", diff)
	}
}
