// Package jsondiff computes what differs between two JSON documents, as a
// list of changes (added, modified, removed) at JSON Pointer paths. It is the
// diff behind zkstate's change events, and is pure: no I/O, no state shared
// between calls that a caller could observe, only the standard library.
//
// What Diff guarantees:
//
//   - Replay. The changes are in order of application: applied one after
//     the other to the old document as RFC 6902 JSON Patch operations (Added
//     is "add", Removed is "remove", Modified is "replace"), they give a
//     document equal to the new one. An array index in a path refers to the
//     array as it stands after the changes before it.
//   - Merged. Diff compares two states, not a history: given two versions
//     several edits apart, it returns their net difference, the same as if
//     the edits had been made at once. A value changed and changed back is
//     not reported.
//   - Values, not text. Key order, whitespace and string escapes do not
//     count, and numbers compare by exact decimal value (1, 1.0 and 10e-1 are
//     equal; 9007199254740993 and 9007199254740992 are not). A key repeated
//     in one object counts with its last value, as in encoding/json.
//   - Paths. Every path is a JSON Pointer (RFC 6901): "" is the whole
//     document, and "~" and "/" inside keys are written "~0" and "~1".
//   - Arrays by alignment. Array elements are aligned on a longest common
//     subsequence (Myers' O(ND) algorithm in linear space), so that removing
//     one element of a list is one change, not a change to every element
//     after it. The search is bounded: two large arrays that differ almost
//     everywhere may get a longer diff than minimal, never a wrong one.
//   - Deterministic and compact. The same two documents always give the same
//     changes; object keys are visited in byte order. Old and New values are
//     compact JSON copied out of the inputs, never aliases of them.
//   - Bad input. Diff accepts exactly the documents encoding/json accepts
//     (RFC 8259, nested at most 10000 deep). Any other input, whatever its
//     bytes, gives a *DocumentError naming the document at fault; Diff never
//     panics on its input.
//   - Cost. Parsing allocates nothing per value, and the working memory is
//     pooled between calls, so that a diff of a megabyte document costs a
//     few dozen allocations, for its result. Diff is safe for concurrent use.
package jsondiff
