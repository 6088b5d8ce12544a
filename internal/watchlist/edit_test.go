package watchlist

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestEdits(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start []string
		edit  func(d *Document, group string) (Edit, error)
		want  []string
		diff  Edit
	}{
		{
			name:  "add appends new globs in order and folds repeats",
			start: []string{"sshd"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Add(g, []string{"b", "a", "b"}) },
			want:  []string{"sshd", "b", "a"},
			diff:  Edit{Added: []string{"b", "a"}, Changed: true},
		},
		{
			name:  "add of globs all present changes nothing",
			start: []string{"a", "b"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Add(g, []string{"b"}) },
			want:  []string{"a", "b"},
			diff:  Edit{Present: []string{"b"}},
		},
		{
			name:  "add to a document without a list makes one",
			start: nil,
			edit:  func(d *Document, g string) (Edit, error) { return d.Add(g, []string{"a"}) },
			want:  []string{"a"},
			diff:  Edit{Added: []string{"a"}, Changed: true},
		},
		{
			name:  "remove takes out every occurrence",
			start: []string{"a", "b", "a", "c"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Remove(g, []string{"a"}, false) },
			want:  []string{"b", "c"},
			diff:  Edit{Removed: []string{"a"}, Changed: true},
		},
		{
			name:  "remove of a missing glob removes nothing at all",
			start: []string{"a", "b"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Remove(g, []string{"a", "x"}, false) },
			want:  []string{"a", "b"},
			diff:  Edit{Missing: []string{"x"}},
		},
		{
			name:  "remove ignoring missing globs removes the others",
			start: []string{"a", "b"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Remove(g, []string{"a", "x"}, true) },
			want:  []string{"b"},
			diff:  Edit{Removed: []string{"a"}, Missing: []string{"x"}, Changed: true},
		},
		{
			name:  "remove of an invalid glob someone else wrote",
			start: []string{"[", "a"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Remove(g, []string{"["}, false) },
			want:  []string{"a"},
			diff:  Edit{Removed: []string{"["}, Changed: true},
		},
		{
			name:  "remove of the last glob leaves an empty list, not none",
			start: []string{"a"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Remove(g, []string{"a"}, false) },
			want:  []string{},
			diff:  Edit{Removed: []string{"a"}, Changed: true},
		},
		{
			name:  "set replaces the list and says what came and went",
			start: []string{"a", "b", "b"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Set(g, []string{"c", "a", "c"}) },
			want:  []string{"c", "a"},
			diff:  Edit{Added: []string{"c"}, Removed: []string{"b"}, Changed: true},
		},
		{
			name:  "set of the same list changes nothing",
			start: []string{"a", "b"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Set(g, []string{"a", "b"}) },
			want:  []string{"a", "b"},
			diff:  Edit{},
		},
		{
			name:  "set reordering is a change",
			start: []string{"a", "b"},
			edit:  func(d *Document, g string) (Edit, error) { return d.Set(g, []string{"b", "a"}) },
			want:  []string{"b", "a"},
			diff:  Edit{Changed: true},
		},
	} {
		// The same edits serve the fleet-wide list and a group's; each
		// leaves the other lists alone.
		for _, group := range []string{"", "web"} {
			t.Run(tt.name+"/group="+group, func(t *testing.T) {
				other := []string{"untouched"}
				d := Document{Globs: other, Groups: map[string]Group{
					"web": {Hosts: []string{"web-*"}, Globs: other},
					"db":  {Labels: map[string]string{"role": "db"}, Globs: other},
				}}
				if group == "" {
					d.Globs = tt.start
				} else {
					d.Groups[group] = Group{Hosts: []string{"web-*"}, Globs: tt.start}
				}
				got, err := tt.edit(&d, group)
				if err != nil {
					t.Fatal(err)
				}
				after, _ := d.GlobsOf(group)
				if diff := cmp.Diff(tt.want, after); diff != "" {
					t.Errorf("globs after the edit (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.diff, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("edit (-want +got):\n%s", diff)
				}
				if group == "" && d.Globs == nil || group != "" && d.Groups[group].Globs == nil {
					t.Error("an edit left the list nil; it would be stored as null")
				}
				if group != "" && !cmp.Equal(d.Globs, other) || !cmp.Equal(d.Groups["db"].Globs, other) {
					t.Errorf("the edit changed another list: %+v", d)
				}
			})
		}
	}
}

func TestEditOfAGroupThatDoesNotExist(t *testing.T) {
	d := Document{Globs: []string{"sshd"}}
	for name, edit := range map[string]func() (Edit, error){
		"add": func() (Edit, error) { return d.Add("web", []string{"nginx"}) },
		"rm":  func() (Edit, error) { return d.Remove("web", []string{"nginx"}, true) },
		"set": func() (Edit, error) { return d.Set("web", []string{"nginx"}) },
	} {
		_, err := edit()
		var ng *NoGroupError
		if !errors.As(err, &ng) || ng.Group != "web" {
			t.Errorf("%s: err = %v; want a NoGroupError naming web", name, err)
		}
		if !strings.Contains(fmt.Sprint(err), "procctl groups set web") {
			t.Errorf("%s: %q does not say how to create the group", name, err)
		}
	}
	if d.Groups != nil {
		t.Errorf("a failed edit made groups: %+v", d.Groups)
	}
}

func TestFold(t *testing.T) {
	if diff := cmp.Diff([]string{"a", "b"}, Fold([]string{"a", "b", "a"})); diff != "" {
		t.Errorf("Fold (-want +got):\n%s", diff)
	}
	if Fold(nil) == nil {
		t.Error("Fold(nil) = nil; want an empty list, stored as []")
	}
}
