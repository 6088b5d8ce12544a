package zkstate

import (
	"errors"
	"fmt"

	"github.com/procwatch/procwatch/internal/jsondiff"
)

// The change types are jsondiff's own, not copies: an Event's Changes are
// what jsondiff.Diff returned, handed on without conversion or allocation,
// and a program that also calls jsondiff directly mixes the two freely.

// ChangeKind says how one JSON value differs between two versions: Added,
// Modified or Removed. It prints, and marshals as JSON text, as "added",
// "modified" or "removed".
type ChangeKind = jsondiff.ChangeKind

const (
	// Added is a value present only in the new version.
	Added = jsondiff.Added
	// Modified is a value present in both versions with a different content
	// (or a different JSON type).
	Modified = jsondiff.Modified
	// Removed is a value present only in the old version.
	Removed = jsondiff.Removed
)

// Change is one difference between two versions of the document: its Kind,
// the JSON Pointer (RFC 6901) Path of the value, and the value's Old and New
// content as compact JSON. See jsondiff.Change.
type Change = jsondiff.Change

// Diff returns the changes that turn old into new, in order of application,
// or nil when the two documents are equal as JSON values. It is the diff
// behind every Event's Changes; jsondiff.Diff documents what it guarantees.
// An invalid document is an error saying which one, starting "zkstate: diff:
// old document: " or "zkstate: diff: new document: ".
func Diff(old, new []byte) ([]Change, error) {
	changes, err := jsondiff.Diff(old, new)
	if err != nil {
		if de, ok := errors.AsType[*jsondiff.DocumentError](err); ok {
			return nil, fmt.Errorf("zkstate: diff: %s document: %w", de.Doc, de.Err)
		}
		return nil, fmt.Errorf("zkstate: diff: %w", err)
	}
	return changes, nil
}
