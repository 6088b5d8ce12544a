package watchlist

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestResolve(t *testing.T) {
	doc := Document{
		Globs: []string{"sshd", "node_exporter"},
		Groups: map[string]Group{
			"web":   {Hosts: []string{"web-*", "edge-??"}, Globs: []string{"nginx*", "sshd"}},
			"db":    {Labels: map[string]string{"role": "db"}, Globs: []string{"postgres*", "pgbouncer"}},
			"dbeu":  {Hosts: []string{"*"}, Labels: map[string]string{"role": "db", "region": "eu"}, Globs: []string{"pgbouncer", "barman"}},
			"empty": {Globs: []string{"never"}},
		},
	}
	fleet := Origin{Fleet: true}
	for _, tt := range []struct {
		name string
		id   Identity
		want InForce
	}{
		{
			name: "a host no group selects watches the fleet-wide list",
			id:   Identity{Hostname: "mail-1"},
			want: InForce{Globs: []string{"sshd", "node_exporter"}, Origins: []Origin{fleet, fleet}},
		},
		{
			name: "hosts match ignoring case; a glob in both lists is there once, from both",
			id:   Identity{Hostname: "WEB-1.example.com"},
			want: InForce{
				Globs:   []string{"sshd", "node_exporter", "nginx*"},
				Origins: []Origin{{Fleet: true, Groups: []string{"web"}}, fleet, {Groups: []string{"web"}}},
				Groups:  []string{"web"},
			},
		},
		{
			name: "? is one character",
			id:   Identity{Hostname: "edge-123"},
			want: InForce{Globs: []string{"sshd", "node_exporter"}, Origins: []Origin{fleet, fleet}},
		},
		{
			name: "labels select; groups are applied in name order",
			id:   Identity{Hostname: "pg-7", Labels: map[string]string{"role": "db", "region": "eu", "rack": "3"}},
			want: InForce{
				Globs:   []string{"sshd", "node_exporter", "postgres*", "pgbouncer", "barman"},
				Origins: []Origin{fleet, fleet, {Groups: []string{"db"}}, {Groups: []string{"db", "dbeu"}}, {Groups: []string{"dbeu"}}},
				Groups:  []string{"db", "dbeu"},
			},
		},
		{
			name: "every label of a group must match",
			id:   Identity{Hostname: "pg-8", Labels: map[string]string{"role": "db", "region": "us"}},
			want: InForce{
				Globs:   []string{"sshd", "node_exporter", "postgres*", "pgbouncer"},
				Origins: []Origin{fleet, fleet, {Groups: []string{"db"}}, {Groups: []string{"db"}}},
				Groups:  []string{"db"},
			},
		},
		{
			name: "a label value differing in case does not match",
			id:   Identity{Hostname: "pg-9", Labels: map[string]string{"role": "DB"}},
			want: InForce{Globs: []string{"sshd", "node_exporter"}, Origins: []Origin{fleet, fleet}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := doc.Resolve(tt.id)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveWithoutGroupsIsTheList(t *testing.T) {
	got := Document{Globs: []string{"a", "b", "a"}}.Resolve(Identity{Hostname: "h"})
	if diff := cmp.Diff([]string{"a", "b"}, got.Globs); diff != "" {
		t.Errorf("globs (-want +got):\n%s", diff)
	}
	if got := (Document{Globs: []string{}}).Resolve(Identity{}); got.Globs == nil {
		t.Error("Resolve of an empty list gave nil globs")
	}
}

func TestResolveSkipsAGroupItCannotEvaluate(t *testing.T) {
	// Written around procctl: one good host glob, one that does not
	// compile. The group applies to nobody, wherever the bad glob is,
	// and the agent is told.
	for _, hosts := range [][]string{{"web-*", "web-["}, {"web-[", "web-*"}} {
		doc := Document{Globs: []string{"sshd"}, Groups: map[string]Group{
			"web": {Hosts: hosts, Globs: []string{"nginx"}},
			"all": {Hosts: []string{"*"}, Globs: []string{"cron"}},
		}}
		got := doc.Resolve(Identity{Hostname: "web-1"})
		if diff := cmp.Diff([]string{"sshd", "cron"}, got.Globs); diff != "" {
			t.Errorf("hosts %q: globs (-want +got):\n%s", hosts, diff)
		}
		if len(got.Skipped) != 1 || got.Skipped[0].Group != "web" {
			t.Errorf("hosts %q: Skipped = %v, want the group web", hosts, got.Skipped)
		}
	}
}

// FuzzResolve holds targeting to its promises for any document: it never
// panics, every glob in force is there once with one origin, and comes
// from the fleet-wide list or from a group that applies.
func FuzzResolve(f *testing.F) {
	f.Add(`{"globs":["a"],"groups":{"web":{"hosts":["web-*"],"globs":["a","b"]}}}`, "web-1", "role=db")
	f.Add(`{"globs":[],"groups":{"x":{"hosts":["["],"labels":{"k":"v"},"globs":["c"]}}}`, "X", "k=v")
	f.Fuzz(func(t *testing.T, doc, host, labels string) {
		var d Document
		if json.Unmarshal([]byte(doc), &d) != nil {
			return
		}
		lbl, err := ParseLabels(SplitLabels(labels))
		if err != nil {
			lbl = nil
		}
		r := d.Resolve(Identity{Hostname: host, Labels: lbl})
		if len(r.Origins) != len(r.Globs) {
			t.Fatalf("%d origins for %d globs", len(r.Origins), len(r.Globs))
		}
		seen := map[string]bool{}
		for i, g := range r.Globs {
			if seen[g] {
				t.Fatalf("%q in force twice", g)
			}
			seen[g] = true
			o := r.Origins[i]
			if o.Fleet != slices.Contains(d.Globs, g) {
				t.Fatalf("%q: Fleet = %v", g, o.Fleet)
			}
			for _, name := range o.Groups {
				if !slices.Contains(r.Groups, name) || !slices.Contains(d.Groups[name].Globs, g) {
					t.Fatalf("%q said to come from %q", g, name)
				}
			}
			if !o.Fleet && len(o.Groups) == 0 {
				t.Fatalf("%q comes from nowhere", g)
			}
		}
	})
}
