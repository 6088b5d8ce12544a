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

func TestValidateGroupName(t *testing.T) {
	for _, ok := range []string{"web", "db", "0", "a.b-c_d", strings.Repeat("a", 63)} {
		if err := ValidateGroupName(ok); err != nil {
			t.Errorf("ValidateGroupName(%q) = %v, want nil", ok, err)
		}
	}
	for name, wantIn := range map[string]string{
		"":                      "empty",
		strings.Repeat("a", 64): "more than 63",
		"Web":                   "must start",
		"wEb":                   `holds 'E'`,
		"-web":                  "must start",
		".web":                  "must start",
		"web farm":              `holds ' '`,
		"web/1":                 `holds '/'`,
		"wéb":                   `holds 'é'`,
	} {
		err := ValidateGroupName(name)
		if err == nil || !strings.Contains(err.Error(), wantIn) {
			t.Errorf("ValidateGroupName(%q) = %v, want an error with %q", name, err, wantIn)
		}
	}
}

func TestValidateGroups(t *testing.T) {
	web := Group{Hosts: []string{"web-*", "EDGE-??"}, Globs: []string{"nginx*"}}
	db := Group{Labels: map[string]string{"role": "db"}, Globs: []string{"postgres*"}}
	ok := Document{Globs: []string{"sshd"}, Groups: map[string]Group{"web": web, "db": db, "none": {Hosts: []string{"x"}}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate() of a good document = %v", err)
	}
	for _, tt := range []struct {
		name   string
		groups map[string]Group
		want   []string // every one must be in the message
	}{
		{"no selector", map[string]Group{"web": {Globs: []string{"nginx"}}}, []string{`group "web"`, "neither hosts nor labels"}},
		{"bad name", map[string]Group{"Web": web}, []string{`group "Web"`, "must start"}},
		{"bad host glob", map[string]Group{"web": {Hosts: []string{"web-[", ""}}}, []string{`group "web"`, `host glob "web-["`, "must not be empty"}},
		{"bad label", map[string]Group{"db": {Labels: map[string]string{"ro le": "db"}}}, []string{`group "db"`, `label key "ro le"`}},
		{"two bad groups, both named", map[string]Group{"a": {}, "b": {}}, []string{`group "a"`, `group "b"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Document{Globs: []string{}, Groups: tt.groups}.Validate()
			var ge *GroupError
			if !errors.As(err, &ge) {
				t.Fatalf("Validate() = %v, want a *GroupError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to say %q", err, w)
				}
			}
		})
	}
	// A group's invalid process glob is named like a fleet-wide one.
	err := Document{Globs: []string{}, Groups: map[string]Group{"web": {Hosts: []string{"w"}, Globs: []string{"[x"}}}}.Validate()
	if !errors.Is(err, pattern.ErrInvalid) || !strings.Contains(err.Error(), `"[x"`) {
		t.Errorf("Validate() = %v, want the invalid glob of the group named", err)
	}
}

func TestGroupGlobsCountTowardsTheLimit(t *testing.T) {
	half := make([]string, MaxGlobs/2)
	for i := range half {
		half[i] = fmt.Sprintf("g%d", i)
	}
	d := Document{Globs: half, Groups: map[string]Group{"web": {Hosts: []string{"w"}, Globs: half}}}
	if err := d.Check(); err != nil {
		t.Fatalf("Check() at the limit = %v", err)
	}
	d.Groups["db"] = Group{Labels: map[string]string{"role": "db"}, Globs: []string{"one-more"}}
	var tm *TooManyGlobsError
	if err := d.Check(); !errors.As(err, &tm) || tm.N != MaxGlobs+1 {
		t.Errorf("Check() = %v, want TooManyGlobsError{N: %d}", err, MaxGlobs+1)
	}
}

func TestDocumentWithGroupsJSON(t *testing.T) {
	in := `{"globs":["sshd"],"groups":{"db":{"labels":{"role":"db"},"globs":["postgres*"]},"web":{"hosts":["web-*"],"globs":["nginx*"]}}}`
	var d Document
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	want := Document{Globs: []string{"sshd"}, Groups: map[string]Group{
		"web": {Hosts: []string{"web-*"}, Globs: []string{"nginx*"}},
		"db":  {Labels: map[string]string{"role": "db"}, Globs: []string{"postgres*"}},
	}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("encoded\n%s\nwant\n%s", out, in)
	}
	// A document without groups encodes as it did before groups existed.
	if out := mustJSON(t, Document{Globs: []string{"a"}}); out != `{"globs":["a"]}` {
		t.Errorf("encoded %s", out)
	}
}

func TestSetAndRemoveGroup(t *testing.T) {
	d := Document{Globs: []string{"sshd"}}
	e := d.SetGroup("web", Selector{Hosts: []string{"web-*"}}, nil)
	if !e.Created || !e.Changed {
		t.Errorf("SetGroup of a new group = %+v, want Created and Changed", e)
	}
	if g := d.Groups["web"]; g.Globs == nil || len(g.Globs) != 0 {
		t.Errorf("a new group's globs = %#v, want [] (stored as [], not null)", g.Globs)
	}
	d.Add("web", []string{"nginx*"})
	// A new selector without globs keeps the group's globs.
	e = d.SetGroup("web", Selector{Hosts: []string{"web-*", "edge-*"}}, nil)
	if e.Created || !e.Changed || e.Globs.Changed {
		t.Errorf("SetGroup of the selector = %+v", e)
	}
	if diff := cmp.Diff(Group{Hosts: []string{"web-*", "edge-*"}, Globs: []string{"nginx*"}}, d.Groups["web"]); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	// The same selector again changes nothing.
	if e = d.SetGroup("web", Selector{Hosts: []string{"web-*", "edge-*"}}, nil); e.Changed {
		t.Errorf("SetGroup of the same selector = %+v, want no change", e)
	}
	// Globs given replace the group's.
	e = d.SetGroup("web", Selector{Labels: map[string]string{"role": "web"}}, []string{"caddy", "caddy"})
	if diff := cmp.Diff(Group{Labels: map[string]string{"role": "web"}, Globs: []string{"caddy"}}, d.Groups["web"]); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Edit{Added: []string{"caddy"}, Removed: []string{"nginx*"}, Changed: true}, e.Globs); diff != "" {
		t.Errorf("globs edit (-want +got):\n%s", diff)
	}
	if !d.RemoveGroup("web") || d.RemoveGroup("web") {
		t.Error("RemoveGroup: want true once, then false")
	}
	if diff := cmp.Diff([]string{"sshd"}, d.Globs); diff != "" {
		t.Errorf("the fleet-wide list changed (-want +got):\n%s", diff)
	}
}
