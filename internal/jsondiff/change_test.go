package jsondiff

import (
	"encoding/json"
	"github.com/google/go-cmp/cmp"
	"testing"
)

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
