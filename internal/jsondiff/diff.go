package jsondiff

import (
	"bytes"
	"sync"
)

// Diff returns the changes that turn old into new, or nil when the two
// documents are equal. Both must be valid JSON (RFC 8259, nested at most
// 10000 deep, like encoding/json); otherwise Diff returns a
// *DocumentError saying which one is not and why.
//
// The changes are in order of application: applying them one after the
// other to old with the semantics of RFC 6902 JSON Patch (Added is "add",
// Removed is "remove", Modified is "replace", each at Path) yields a document
// equal to new. An array index in a Path therefore refers to the array as it
// stands after the changes before it, which is what lets whoever holds old
// replay the changes onto its own copy. Equality is that of JSON values, not of text:
//
//   - Objects are compared key by key, whatever the order or spacing the
//     documents were written in. A key only in old is Removed, a key only in
//     new is Added, a key in both is compared recursively. Keys are visited in
//     sorted (byte) order, so the output is deterministic. A key that appears
//     twice in one object counts with its last value, as in encoding/json.
//   - Values of different JSON types, and scalars that differ, are one
//     Modified at their path; nothing below it is reported. Strings compare by
//     their decoded text ("A" equals "\u0041"). Numbers compare by exact
//     decimal value: 1, 1.0 and 10e-1 are equal, and so are 0 and -0, while
//     9007199254740993 and 9007199254740992 differ, although a float64 cannot
//     tell them apart.
//   - Arrays are aligned on a longest common subsequence of their elements
//     (Myers' O(ND) algorithm in linear space, after trimming the common
//     prefix and suffix), so removing the middle element of ["a","b","c"] is
//     the single change `removed /1 "b"`. Where k elements were removed and m
//     added at the same place, the first min(k, m) of them are paired as
//     Modified, recursing when both are objects or both are arrays (so
//     [{"n":1,"v":2}] to [{"n":1,"v":3}] is `modified /0/v 2 -> 3`); the rest
//     are Removed, highest index first, or Added, lowest index first. When
//     two large arrays differ so much that exact alignment would be costly,
//     the alignment may be longer than minimal; it is still correct.
//
// Unchanged values are never reported. Old and New are compact copies of the
// values as they were written, never aliases of old or new. Diff is safe for
// concurrent use.
func Diff(old, new []byte) ([]Change, error) {
	st := diffPool.Get().(*diffState)
	defer st.release()
	if err := st.a.parse(old); err != nil {
		return nil, &DocumentError{Doc: "old", Err: err}
	}
	if bytes.Equal(old, new) {
		return nil, nil
	}
	if err := st.b.parse(new); err != nil {
		return nil, &DocumentError{Doc: "new", Err: err}
	}
	df := &st.df
	df.a, df.b = &st.a, &st.b
	df.node(st.a.root, st.b.root)
	return df.finish(), nil
}

// DocumentError reports that a document given to Diff is not valid JSON.
type DocumentError struct {
	// Doc is "old" or "new": which argument of Diff was rejected.
	Doc string
	// Err says what is wrong and at which byte offset, in the words of
	// encoding/json's syntax errors ("invalid character '}' looking for
	// beginning of object key string at offset 7", "unexpected end of JSON
	// input").
	Err error
}

// Error returns "jsondiff: old document: " or "jsondiff: new document: "
// followed by the cause.
func (e *DocumentError) Error() string {
	return "jsondiff: " + e.Doc + " document: " + e.Err.Error()
}

// Unwrap returns the cause, Err.
func (e *DocumentError) Unwrap() error { return e.Err }

// diffState is the working memory of one Diff. It is pooled because a
// megabyte document needs megabytes of it, and allocating (and zeroing) that
// afresh for every call would cost as much as the parsing itself.
// Nothing in it is referenced by the returned changes.
type diffState struct {
	a, b jsonDoc
	df   differ
}

var diffPool = sync.Pool{New: func() any { return new(diffState) }}

func (st *diffState) release() {
	// Drop the caller's documents and the returned values, and keep only
	// scratch space of a reasonable size.
	st.a.src, st.b.src = nil, nil
	st.df.a, st.df.b = nil, nil
	st.df.out, st.df.vals = nil, nil
	st.df.paths, st.df.pathEnd = st.df.paths[:0], st.df.pathEnd[:0]
	if cap(st.a.nodes)+cap(st.b.nodes) > 1<<22 {
		return
	}
	diffPool.Put(st)
}
