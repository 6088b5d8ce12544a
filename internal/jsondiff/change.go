package jsondiff

import (
	"encoding/json"
	"fmt"
)

// ChangeKind says how one JSON value differs between two versions.
type ChangeKind int

const (
	// Added is a value present only in the new version.
	Added ChangeKind = iota + 1
	// Modified is a value present in both versions with a different content
	// (or a different JSON type).
	Modified
	// Removed is a value present only in the old version.
	Removed
)

var changeKindNames = [...]string{Added: "added", Modified: "modified", Removed: "removed"}

// String returns "added", "modified" or "removed".
func (k ChangeKind) String() string {
	if k >= Added && k <= Removed {
		return changeKindNames[k]
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// MarshalText returns the same word as String, so that a Change reads well as
// JSON ({"kind":"added",...}) in command output and in logs.
func (k ChangeKind) MarshalText() ([]byte, error) {
	if k < Added || k > Removed {
		return nil, fmt.Errorf("jsondiff: invalid change kind %d", int(k))
	}
	return []byte(changeKindNames[k]), nil
}

// UnmarshalText accepts the words MarshalText writes, so that a Change
// written as JSON by one program can be read back by another.
func (k *ChangeKind) UnmarshalText(text []byte) error {
	for kind := Added; kind <= Removed; kind++ {
		if string(text) == changeKindNames[kind] {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("jsondiff: invalid change kind %q", text)
}

// Change is one difference between two versions of a JSON document.
type Change struct {
	// Kind says whether the value was added, modified or removed.
	Kind ChangeKind `json:"kind"`
	// Path is a JSON Pointer (RFC 6901) to the value: "" is the whole
	// document, "/globs/1" the second element of the member "globs"; "~" and
	// "/" inside keys are written "~0" and "~1".
	Path string `json:"path"`
	// Old is the value before the change, as compact JSON; nil for Added.
	Old json.RawMessage `json:"old,omitempty"`
	// New is the value after the change, as compact JSON; nil for Removed.
	New json.RawMessage `json:"new,omitempty"`
}

// String formats the change for people: `removed /globs/1 "b"`,
// `modified /a 1 -> 2`, `added /globs/0 "x"`. The whole document's path
// prints as "" so that the line still has a visible path.
func (c Change) String() string {
	path := c.Path
	if path == "" {
		path = `""`
	}
	switch c.Kind {
	case Added:
		return "added " + path + " " + string(c.New)
	case Removed:
		return "removed " + path + " " + string(c.Old)
	case Modified:
		return "modified " + path + " " + string(c.Old) + " -> " + string(c.New)
	}
	return c.Kind.String() + " " + path
}
