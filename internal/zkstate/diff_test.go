package zkstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procwatch/procwatch/internal/zkstate/zkstatetest"
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

// TestDiffReplays checks the invariant the engine's subscribers rely on:
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
		if err == nil || !strings.HasPrefix(err.Error(), "zkstate: diff: old document: ") {
			t.Errorf("Diff(%q, {}) error = %v, want one about the old document", doc, err)
		}
		_, err = Diff([]byte(`{}`), []byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), "zkstate: diff: new document: ") {
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
	want := `zkstate: diff: new document: invalid character '}' looking for beginning of object key string at offset 7`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = Diff([]byte(`[1,`), []byte(`[]`))
	want = `zkstate: diff: old document: unexpected end of JSON input`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestDiffCopiesValues guards against returning slices of the caller's
// buffers, which the engine reuses for the next payload.
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

func TestChangeString(t *testing.T) {
	tests := []struct {
		c    Change
		want string
	}{
		{wantRemoved("/globs/1", `"b"`), `removed /globs/1 "b"`},
		{wantModified("/a", "1", "2"), `modified /a 1 -> 2`},
		{wantAdded("/globs/0", `"x"`), `added /globs/0 "x"`},
		{wantModified("", "1", "2"), `modified "" 1 -> 2`},
		{Change{Kind: 9, Path: "/x"}, `ChangeKind(9) /x`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

func TestChangeJSON(t *testing.T) {
	changes := []Change{wantRemoved("/globs/1", `"b"`), wantModified("/a", "1", `{"b":[2]}`), wantAdded("/globs/0", `"x"`)}
	got, err := json.Marshal(changes)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"kind":"removed","path":"/globs/1","old":"b"},` +
		`{"kind":"modified","path":"/a","old":1,"new":{"b":[2]}},` +
		`{"kind":"added","path":"/globs/0","new":"x"}]`
	if string(got) != want {
		t.Errorf("json.Marshal = %s\nwant %s", got, want)
	}
	var back []Change
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(changes, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	if _, err := json.Marshal(Change{Kind: 0}); err == nil {
		t.Error("marshalling a zero ChangeKind succeeded")
	}
	var k ChangeKind
	if err := k.UnmarshalText([]byte("unchanged")); err == nil {
		t.Error(`UnmarshalText("unchanged") succeeded`)
	}
}

func TestChangeKindString(t *testing.T) {
	for k, want := range map[ChangeKind]string{Added: "added", Modified: "modified", Removed: "removed", 0: "ChangeKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("ChangeKind(%d).String() = %s, want %s", int(k), got, want)
		}
	}
}

// TestDiffMinimal compares the array alignment with a textbook dynamic
// programming LCS on many small random arrays: every element that is not
// part of the LCS must be reported once, and no other.
func TestDiffMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randArray := func() []int {
		a := make([]int, rng.IntN(16))
		for i := range a {
			a[i] = rng.IntN(4)
		}
		return a
	}
	for range 2000 {
		a, b := randArray(), randArray()
		old, new := diffMarshal(t, a), diffMarshal(t, b)
		changes := checkDiff(t, old, new)
		var nAdded, nRemoved, nModified int
		for _, c := range changes {
			switch c.Kind {
			case Added:
				nAdded++
			case Removed:
				nRemoved++
			case Modified:
				nModified++
			}
		}
		l := lcsLength(a, b)
		if len(a)-l != nRemoved+nModified || len(b)-l != nAdded+nModified {
			t.Fatalf("Diff(%s, %s): LCS length %d, but %d removed, %d added, %d modified: %v",
				old, new, l, nRemoved, nAdded, nModified, changes)
		}
	}
}

func lcsLength(a, b []int) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// TestDiffLargeArrays covers arrays too far apart for the first, cheap
// alignment attempt: lists of distinct entries are still aligned exactly.
func TestDiffLargeArrays(t *testing.T) {
	const n = 6000
	var a, b []string
	for i := range n {
		a = append(a, fmt.Sprintf("item-%d", i))
	}
	kept, edits := 0, 0
	for i, s := range a {
		switch {
		case i%37 == 0:
			edits++ // removed
		case i%31 == 0:
			b = append(b, s, fmt.Sprintf("new-%d", i))
			kept++
			edits++
		case i%41 == 0:
			b = append(b, fmt.Sprintf("changed-%d", i))
			edits += 2
		default:
			b = append(b, s)
			kept++
		}
	}
	if edits <= 2*lcsFirstLimit {
		t.Fatalf("test bug: %d edits are within reach of the first attempt", edits)
	}
	old, new := diffMarshal(t, a), diffMarshal(t, b)
	changes := checkDiff(t, old, new)
	var nAdded, nRemoved, nModified int
	for _, c := range changes {
		switch c.Kind {
		case Added:
			nAdded++
		case Removed:
			nRemoved++
		case Modified:
			nModified++
		}
	}
	if len(a)-kept != nRemoved+nModified || len(b)-kept != nAdded+nModified {
		t.Errorf("%d kept, but %d removed, %d added, %d modified", kept, nRemoved, nAdded, nModified)
	}

	// Blocks moved around: the exact LCS is not known here, only that the
	// result replays correctly.
	moved := slices.Concat(a[3000:3500], a[:3000], a[4000:], a[3500:4000])
	checkDiff(t, old, diffMarshal(t, moved))
	shuffled := slices.Clone(a)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	checkDiff(t, old, diffMarshal(t, shuffled))
}

// TestDiffCostLimit forces the fallback for arrays whose alignment would cost
// too much: the result may be longer than minimal but must replay correctly.
func TestDiffCostLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, limit := range []int{1, 2, 5} {
		for range 200 {
			a := make([]any, rng.IntN(60))
			for i := range a {
				a[i] = rng.IntN(5)
			}
			b := slices.Clone(a)
			for range rng.IntN(10) {
				i := rng.IntN(len(b) + 1)
				b = slices.Insert(b, i, any(rng.IntN(5)))
				if len(b) > 1 {
					j := rng.IntN(len(b))
					b = slices.Delete(b, j, j+1)
				}
			}
			old, new := diffMarshal(t, map[string]any{"x": a}), diffMarshal(t, map[string]any{"x": b})
			var da, db jsonDoc
			if err := da.parse(old); err != nil {
				t.Fatal(err)
			}
			if err := db.parse(new); err != nil {
				t.Fatal(err)
			}
			df := differ{a: &da, b: &db, costLimit: limit}
			df.node(da.root, db.root)
			changes := df.finish()
			checkReplay(t, old, new, changes)
		}
	}
}

func TestDiffNumberEquality(t *testing.T) {
	var spellings []string
	for _, i := range []string{"0", "1", "5", "10", "12", "120"} {
		for _, f := range []string{"", ".0", ".5", ".05", ".50"} {
			for _, e := range []string{"", "e1", "E-1", "e+2", "e-03", "E00"} {
				spellings = append(spellings, i+f+e, "-"+i+f+e)
			}
		}
	}
	decimals := make([]jsonDecimal, len(spellings))
	rats := make([]*big.Rat, len(spellings))
	for i, s := range spellings {
		decimals[i], _ = parseDecimal(nil, []byte(s))
		rats[i], _ = new(big.Rat).SetString(s)
	}
	for i, x := range spellings {
		for j, y := range spellings {
			got, want := decimals[i].equal(decimals[j]), rats[i].Cmp(rats[j]) == 0
			if got != want {
				t.Fatalf("%s and %s: equal %v, want %v", x, y, got, want)
			}
			if got && decimals[i].hash() != decimals[j].hash() {
				t.Fatalf("%s and %s: equal but hashed differently", x, y)
			}
		}
	}
	// Exponents beyond int64 are legal JSON.
	huge := []struct {
		x, y  string
		equal bool
	}{
		{"1e99999999999999999999", "10e99999999999999999998", true},
		{"1e99999999999999999999", "1e99999999999999999998", false},
		{"1e-99999999999999999999", "0.1e-99999999999999999998", true},
		{"-1e-99999999999999999999", "1e-99999999999999999999", false},
		{"0e99999999999999999999", "0", true},
		{"1.5e9223372036854775807", "15e9223372036854775806", true},
		{"1e1000000000000000004", "100000e999999999999999999", true},
		{"1e9223372036854775808", "0.1e9223372036854775809", true},
	}
	for _, h := range huge {
		x, _ := parseDecimal(nil, []byte(h.x))
		y, _ := parseDecimal(nil, []byte(h.y))
		if got := x.equal(y); got != h.equal {
			t.Errorf("%s and %s (%+v, %+v): equal %v, want %v", h.x, h.y, x, y, got, h.equal)
		}
		if h.equal && x.hash() != y.hash() {
			t.Errorf("%s and %s: equal but hashed differently", h.x, h.y)
		}
		if got := diffNumberKey(h.x) == diffNumberKey(h.y); got != h.equal {
			t.Errorf("test bug: diffNumberKey(%s) = %s, diffNumberKey(%s) = %s", h.x, diffNumberKey(h.x), h.y, diffNumberKey(h.y))
		}
	}
}

func diffMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkDiff runs Diff on a pair of valid documents and checks everything
// that must hold for any such pair.
func checkDiff(t testing.TB, old, new []byte) []Change {
	t.Helper()
	changes, err := Diff(old, new)
	if err != nil {
		t.Fatalf("Diff(%s, %s): %v", old, new, err)
	}
	checkReplay(t, old, new, changes)
	for _, doc := range [][]byte{old, new} {
		if same, err := Diff(doc, doc); err != nil || same != nil {
			t.Fatalf("Diff(%s, itself) = %v, %v; want nil, nil", doc, same, err)
		}
	}
	// Spelling is not content: re-encoding a document (sorted keys,
	// different escapes, no spaces) must not make it differ.
	if v, err := diffDecode(old); err == nil {
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if same, err := Diff(old, again); err != nil || same != nil {
			t.Fatalf("Diff(%s, %s) = %v, %v; want nil, nil", old, again, same, err)
		}
	}
	return changes
}

// checkReplay checks the changes are well formed and turn old into new.
func checkReplay(t testing.TB, old, new []byte, changes []Change) {
	t.Helper()
	if changes != nil && len(changes) == 0 {
		t.Fatalf("Diff(%s, %s) returned an empty non-nil slice", old, new)
	}
	for _, c := range changes {
		if (c.Old == nil) != (c.Kind == Added) || (c.New == nil) != (c.Kind == Removed) {
			t.Fatalf("Diff(%s, %s): malformed change %#v", old, new, c)
		}
		for _, v := range []json.RawMessage{c.Old, c.New} {
			if v == nil {
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil || !bytes.Equal(buf.Bytes(), v) {
				t.Fatalf("Diff(%s, %s): value %q in %v is not compact JSON (%v)", old, new, v, c, err)
			}
		}
	}
	got, err := applyChanges(old, changes)
	if err != nil {
		t.Fatalf("Diff(%s, %s) = %v: does not apply: %v", old, new, changes, err)
	}
	if !diffSameJSON(t, got, new) {
		t.Fatalf("Diff(%s, %s) = %v: applied, gives %s", old, new, changes, got)
	}
}

// applyChanges applies changes to doc one after the other, like an RFC 6902
// JSON Patch of "add", "remove" and "replace" operations, but stricter: an
// add must not overwrite a member, and the value removed or replaced must
// equal the change's Old.
func applyChanges(doc []byte, changes []Change) ([]byte, error) {
	v, err := diffDecode(doc)
	if err != nil {
		return nil, err
	}
	for i, c := range changes {
		tokens, err := diffSplitPointer(c.Path)
		if err != nil {
			return nil, fmt.Errorf("change %d (%v): %w", i, c, err)
		}
		if v, err = applyOneChange(v, tokens, c); err != nil {
			return nil, fmt.Errorf("change %d (%v): %w", i, c, err)
		}
	}
	return json.Marshal(v)
}

func diffSplitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("pointer %q does not start with /", p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, tok := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

func applyOneChange(v any, tokens []string, c Change) (any, error) {
	if len(tokens) == 0 {
		if c.Kind != Modified {
			return nil, errors.New("only a replacement can target the whole document")
		}
		return diffReplaceValue(v, c)
	}
	tok, rest := tokens[0], tokens[1:]
	switch t := v.(type) {
	case map[string]any:
		cur, ok := t[tok]
		if len(rest) > 0 || c.Kind != Added {
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
		}
		switch {
		case len(rest) > 0:
			nv, err := applyOneChange(cur, rest, c)
			t[tok] = nv
			return t, err
		case c.Kind == Added:
			if ok {
				return nil, fmt.Errorf("member %q already exists", tok)
			}
			nv, err := diffDecode(c.New)
			t[tok] = nv
			return t, err
		case c.Kind == Removed:
			if _, err := diffReplaceValue(cur, c); err != nil {
				return nil, err
			}
			delete(t, tok)
			return t, nil
		default:
			nv, err := diffReplaceValue(cur, c)
			t[tok] = nv
			return t, err
		}
	case []any:
		idx, err := strconv.Atoi(tok)
		if err != nil || idx < 0 || strconv.Itoa(idx) != tok {
			return nil, fmt.Errorf("bad array index %q", tok)
		}
		if idx > len(t) || idx == len(t) && (len(rest) > 0 || c.Kind != Added) {
			return nil, fmt.Errorf("index %d out of range [0, %d)", idx, len(t))
		}
		switch {
		case len(rest) > 0:
			t[idx], err = applyOneChange(t[idx], rest, c)
			return t, err
		case c.Kind == Added:
			nv, err := diffDecode(c.New)
			return slices.Insert(t, idx, nv), err
		case c.Kind == Removed:
			if _, err := diffReplaceValue(t[idx], c); err != nil {
				return nil, err
			}
			return slices.Delete(t, idx, idx+1), nil
		default:
			t[idx], err = diffReplaceValue(t[idx], c)
			return t, err
		}
	default:
		return nil, fmt.Errorf("cannot descend into %T with %q", v, tok)
	}
}

// diffReplaceValue checks that cur is c.Old and returns c.New decoded.
func diffReplaceValue(cur any, c Change) (any, error) {
	old, err := diffDecode(c.Old)
	if err != nil {
		return nil, fmt.Errorf("old value: %w", err)
	}
	if !diffEqualValues(cur, old) {
		got, _ := json.Marshal(cur)
		return nil, fmt.Errorf("value is %s, change says it was %s", got, c.Old)
	}
	if c.New == nil {
		return nil, nil
	}
	return diffDecode(c.New)
}

func diffDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the value in %q", data)
	}
	return v, nil
}

func diffSameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	va, err := diffDecode(a)
	if err != nil {
		t.Fatalf("decoding %s: %v", a, err)
	}
	vb, err := diffDecode(b)
	if err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return diffEqualValues(va, vb)
}

// diffEqualValues is equality of decoded JSON values, numbers by exact value.
func diffEqualValues(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, va := range a {
			vb, ok := b[k]
			if !ok || !diffEqualValues(va, vb) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !diffEqualValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		return ok && diffNumberKey(string(a)) == diffNumberKey(string(b))
	default:
		return a == b
	}
}

// diffNumberKey is a reference for number equality, written apart from the
// code under test: the value as (sign, significant digits, exponent) with
// the exponent in math/big, since JSON puts no bound on it.
func diffNumberKey(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	e := new(big.Int)
	if exp != "" {
		e.SetString(strings.TrimPrefix(exp, "+"), 10)
	}
	e.Sub(e, big.NewInt(int64(len(frac))))
	trimmed := strings.TrimRight(digits, "0")
	e.Add(e, big.NewInt(int64(len(digits)-len(trimmed))))
	if trimmed == "" {
		return "0"
	}
	return sign + trimmed + "e" + e.String()
}

// TestDiffConcurrent runs Diff from many goroutines at once, as subscribers
// of several stores do; with -race it checks that the pooled working memory
// is never shared.
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
	old, new := zkstatetest.DiffDocs()
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
