package watchlist

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestEdits(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start []string
		edit  func(d *Document) Edit
		want  []string
		diff  Edit
	}{
		{
			name:  "add appends new globs in order and folds repeats",
			start: []string{"sshd"},
			edit:  func(d *Document) Edit { return d.Add([]string{"b", "a", "b"}) },
			want:  []string{"sshd", "b", "a"},
			diff:  Edit{Added: []string{"b", "a"}, Changed: true},
		},
		{
			name:  "add of globs all present changes nothing",
			start: []string{"a", "b"},
			edit:  func(d *Document) Edit { return d.Add([]string{"b"}) },
			want:  []string{"a", "b"},
			diff:  Edit{Present: []string{"b"}},
		},
		{
			name:  "add to a document without a list makes one",
			start: nil,
			edit:  func(d *Document) Edit { return d.Add([]string{"a"}) },
			want:  []string{"a"},
			diff:  Edit{Added: []string{"a"}, Changed: true},
		},
		{
			name:  "remove takes out every occurrence",
			start: []string{"a", "b", "a", "c"},
			edit:  func(d *Document) Edit { return d.Remove([]string{"a"}, false) },
			want:  []string{"b", "c"},
			diff:  Edit{Removed: []string{"a"}, Changed: true},
		},
		{
			name:  "remove of a missing glob removes nothing at all",
			start: []string{"a", "b"},
			edit:  func(d *Document) Edit { return d.Remove([]string{"a", "x"}, false) },
			want:  []string{"a", "b"},
			diff:  Edit{Missing: []string{"x"}},
		},
		{
			name:  "remove ignoring missing globs removes the others",
			start: []string{"a", "b"},
			edit:  func(d *Document) Edit { return d.Remove([]string{"a", "x"}, true) },
			want:  []string{"b"},
			diff:  Edit{Removed: []string{"a"}, Missing: []string{"x"}, Changed: true},
		},
		{
			name:  "remove of an invalid glob someone else wrote",
			start: []string{"[", "a"},
			edit:  func(d *Document) Edit { return d.Remove([]string{"["}, false) },
			want:  []string{"a"},
			diff:  Edit{Removed: []string{"["}, Changed: true},
		},
		{
			name:  "remove of the last glob leaves an empty list, not none",
			start: []string{"a"},
			edit:  func(d *Document) Edit { return d.Remove([]string{"a"}, false) },
			want:  []string{},
			diff:  Edit{Removed: []string{"a"}, Changed: true},
		},
		{
			name:  "set replaces the list and says what came and went",
			start: []string{"a", "b", "b"},
			edit:  func(d *Document) Edit { return d.Set([]string{"c", "a", "c"}) },
			want:  []string{"c", "a"},
			diff:  Edit{Added: []string{"c"}, Removed: []string{"b"}, Changed: true},
		},
		{
			name:  "set of the same list changes nothing",
			start: []string{"a", "b"},
			edit:  func(d *Document) Edit { return d.Set([]string{"a", "b"}) },
			want:  []string{"a", "b"},
			diff:  Edit{},
		},
		{
			name:  "set reordering is a change",
			start: []string{"a", "b"},
			edit:  func(d *Document) Edit { return d.Set([]string{"b", "a"}) },
			want:  []string{"b", "a"},
			diff:  Edit{Changed: true},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Document{Globs: tt.start}
			got := tt.edit(&d)
			if diff := cmp.Diff(tt.want, d.Globs); diff != "" {
				t.Errorf("globs after the edit (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.diff, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("edit (-want +got):\n%s", diff)
			}
			if d.Globs == nil {
				t.Error("an edit left the list nil; it would be stored as null")
			}
		})
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
