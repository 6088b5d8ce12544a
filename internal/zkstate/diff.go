package zkstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
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
// JSON ({"kind":"added",...}) for procctl -o json and for logs.
func (k ChangeKind) MarshalText() ([]byte, error) {
	if k < Added || k > Removed {
		return nil, fmt.Errorf("zkstate: invalid change kind %d", int(k))
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
	return fmt.Errorf("zkstate: invalid change kind %q", text)
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

// Diff returns the changes that turn old into new, or nil when the two
// documents are equal. Both must be valid JSON (RFC 8259, nested at most
// 10000 deep, like encoding/json); otherwise Diff returns an error.
//
// The changes are in order of application: applying them one after the
// other to old with the semantics of RFC 6902 JSON Patch (Added is "add",
// Removed is "remove", Modified is "replace", each at Path) yields a document
// equal to new. An array index in a Path therefore refers to the array as it
// stands after the changes before it, which is what lets a subscriber replay
// the changes onto its own copy. Equality is that of JSON values, not of text:
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
		return nil, fmt.Errorf("zkstate: diff: old document: %w", err)
	}
	if bytes.Equal(old, new) {
		return nil, nil
	}
	if err := st.b.parse(new); err != nil {
		return nil, fmt.Errorf("zkstate: diff: new document: %w", err)
	}
	df := &st.df
	df.a, df.b = &st.a, &st.b
	df.node(st.a.root, st.b.root)
	return df.finish(), nil
}

// diffState is the working memory of one Diff. It is pooled because a
// megabyte document needs megabytes of it, and allocating (and zeroing) that
// afresh for every change event would cost as much as the parsing itself.
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

// jsonMaxDepth is encoding/json's nesting limit, so that Diff accepts exactly
// the documents the rest of the engine can decode.
const jsonMaxDepth = 10000

// jsonHashSeed is shared by both documents of a Diff (their hashes must be
// comparable) and by all calls, which costs nothing and keeps hashing free of
// per-call setup.
var jsonHashSeed = maphash.MakeSeed()

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonFalse
	jsonTrue
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// Tags keep values of different types apart in the hash: the string "12"
// must not collide with the number 12, which hashes its digits.
const (
	hashTagNumber uint64 = 0x9e3779b97f4a7c15
	hashTagString uint64 = 0xc2b2ae3d27d4eb4f
	hashTagArray  uint64 = 0x165667b19e3779f9
	hashTagObject uint64 = 0x27d4eb2f165667c5
	hashTagNeg    uint64 = 0x85ebca77c2b2ae63
	hashTagBigExp uint64 = 0xd6e8feb86659fd93
)

// jsonNode is one value of a parsed document. Documents are parsed into flat
// slices with int32 indexes rather than into map[string]any: a 1 MiB document
// is some 100k values, and one allocation per value would dominate Diff.
type jsonNode struct {
	// hash identifies the value up to formatting, key order and number
	// spelling; equal values have equal hashes.
	hash uint64
	// start and end delimit the value's text in the document.
	start, end int32
	// first and n locate the children: array elements in jsonDoc.kids,
	// object members (without duplicate keys) in jsonDoc.pairs. For a
	// string they locate its decoded text (see jsonText).
	first, n int32
	kind     jsonKind
	// decoded says a string's text is in jsonDoc.text (see jsonText).
	decoded bool
	// sorted says an object's members are in key order. They are sorted
	// only when the object is diffed: most objects of a large document are
	// unchanged, and sorting them all would be a sixth of the parsing time.
	sorted bool
}

// jsonText locates the decoded text of a string: inside the document, which
// is the case unless the string has escapes or invalid UTF-8, or else in
// jsonDoc.text.
type jsonText struct {
	off, n  int32
	decoded bool
}

// jsonPair is an object member. Keys are kept here rather than as nodes of
// their own: they are never diffed as values, and a third fewer nodes is a
// third less parsing work.
type jsonPair struct {
	keyHash uint64
	key     jsonText
	val     int32
}

// jsonDoc is a parsed JSON document.
type jsonDoc struct {
	src    []byte
	nodes  []jsonNode
	kids   []int32
	pairs  []jsonPair
	text   []byte
	stack  []int32    // elements of the arrays being parsed
	pstack []jsonPair // members of the objects being parsed
	num    []byte     // scratch for numbers with a fraction
	hashes []uint64   // scratch for finding duplicate keys
	depth  int
	root   int32
}

var errJSONEnd = errors.New("unexpected end of JSON input")

func (d *jsonDoc) parse(src []byte) error {
	if len(src) > math.MaxInt32 {
		return errors.New("document larger than 2 GiB")
	}
	d.src = src
	d.kids, d.text, d.stack, d.pstack = d.kids[:0], d.text[:0], d.stack[:0], d.pstack[:0]
	d.depth = 0
	// Every value but the first follows a comma or opens a container, and
	// every member has a colon. Counting them (fast, vectorised) sizes the
	// slices once instead of regrowing them through a megabyte-sized
	// document. Separators inside strings only make the estimate high, and
	// a value takes at least two bytes with its separator.
	values := bytes.Count(src, []byte{','}) + bytes.Count(src, []byte{'['}) + bytes.Count(src, []byte{'{'}) + 1
	if values = min(values, len(src)/2+1); cap(d.nodes) < values {
		d.nodes = make([]jsonNode, 0, values)
	}
	if members := min(bytes.Count(src, []byte{':'}), len(src)/4); cap(d.pairs) < members {
		d.pairs = make([]jsonPair, 0, members)
	}
	d.nodes, d.pairs = d.nodes[:0], d.pairs[:0]
	root, i, err := d.value(skipSpace(src, 0))
	if err != nil {
		return err
	}
	if i = skipSpace(src, i); i < len(src) {
		return d.syntaxError(i, "after top-level value")
	}
	d.root = root
	return nil
}

func skipSpace(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (d *jsonDoc) syntaxError(i int, context string) error {
	if i >= len(d.src) {
		return errJSONEnd
	}
	c := d.src[i]
	var what string
	if c < utf8.RuneSelf && strconv.IsPrint(rune(c)) {
		what = strconv.QuoteRune(rune(c))
	} else {
		what = fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Errorf("invalid character %s %s at offset %d", what, context, i)
}

func (d *jsonDoc) add(n jsonNode) int32 {
	d.nodes = append(d.nodes, n)
	return int32(len(d.nodes) - 1)
}

func (d *jsonDoc) value(i int) (int32, int, error) {
	src := d.src
	if i >= len(src) {
		return 0, i, errJSONEnd
	}
	switch c := src[i]; c {
	case '{':
		return d.object(i)
	case '[':
		return d.array(i)
	case '"':
		return d.string(i)
	case 't':
		return d.literal(i, "true", jsonTrue)
	case 'f':
		return d.literal(i, "false", jsonFalse)
	case 'n':
		return d.literal(i, "null", jsonNull)
	default:
		if c == '-' || isDigit(c) {
			return d.number(i)
		}
		return 0, i, d.syntaxError(i, "looking for beginning of value")
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (d *jsonDoc) literal(i int, lit string, kind jsonKind) (int32, int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(d.src) || d.src[i+k] != lit[k] {
			return 0, i + k, d.syntaxError(i+k, "in literal "+lit)
		}
	}
	// The kind alone identifies the value.
	h := mix64(uint64(kind) + 1)
	return d.add(jsonNode{kind: kind, start: int32(i), end: int32(i + len(lit)), hash: h}), i + len(lit), nil
}

func (d *jsonDoc) number(i int) (int32, int, error) {
	src, start := d.src, i
	if src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && '1' <= src[i] && src[i] <= '9':
		for i++; i < len(src) && isDigit(src[i]); i++ {
		}
	default:
		return 0, i, d.syntaxError(i, "in numeric literal")
	}
	if i == len(src) || src[i] != '.' && src[i] != 'e' && src[i] != 'E' {
		// An integer, by far the most common number: its digits are
		// already in hand.
		var v jsonDecimal
		if digits := src[start:i]; digits[0] == '-' {
			v.neg, digits = true, digits[1:]
			v.digits = digits
		} else {
			v.digits = digits
		}
		for len(v.digits) > 0 && v.digits[len(v.digits)-1] == '0' {
			v.digits = v.digits[:len(v.digits)-1]
			v.exp++
		}
		if len(v.digits) == 0 {
			v = jsonDecimal{}
		}
		return d.add(jsonNode{kind: jsonNumber, start: int32(start), end: int32(i), hash: v.hash()}), i, nil
	}
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return 0, i, d.syntaxError(i, "after decimal point in numeric literal")
		}
		for ; i < len(src) && isDigit(src[i]); i++ {
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || !isDigit(src[i]) {
			return 0, i, d.syntaxError(i, "in exponent of numeric literal")
		}
		for ; i < len(src) && isDigit(src[i]); i++ {
		}
	}
	var v jsonDecimal
	v, d.num = parseDecimal(d.num, src[start:i])
	return d.add(jsonNode{kind: jsonNumber, start: int32(start), end: int32(i), hash: v.hash()}), i, nil
}

// jsonDecimal is the exact value of a JSON number: ±digits × 10^exp, where
// digits has no leading or trailing zeros (and is empty for zero). Working on
// the digits keeps the comparison exact, where float64 would merge distinct
// large integers. An exponent beyond int64, which JSON allows, is kept as
// decimal text in bigExp.
type jsonDecimal struct {
	neg    bool
	digits []byte
	exp    int64
	bigExp []byte
}

// parseDecimal returns the value of tok, a valid JSON number. The digits
// alias tok, or buf (returned for reuse) when a fraction must be joined to
// the integer part.
func parseDecimal(buf, tok []byte) (jsonDecimal, []byte) {
	var v jsonDecimal
	if tok[0] == '-' {
		v.neg = true
		tok = tok[1:]
	}
	intEnd := len(tok)
	for k, c := range tok {
		if c == '.' || c == 'e' || c == 'E' {
			intEnd = k
			break
		}
	}
	intPart, rest := tok[:intEnd], tok[intEnd:]
	var frac, exp []byte
	if len(rest) > 0 && rest[0] == '.' {
		k := 1
		for k < len(rest) && isDigit(rest[k]) {
			k++
		}
		frac, rest = rest[1:k], rest[k:]
	}
	if len(rest) > 0 {
		exp = rest[1:]
	}
	digits := intPart
	switch {
	case len(frac) == 0:
	case len(intPart) == 1 && intPart[0] == '0':
		digits = frac
	default:
		buf = append(append(buf[:0], intPart...), frac...)
		digits = buf
	}
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	trailing := 0
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		trailing++
	}
	if len(digits) == 0 {
		return jsonDecimal{}, buf // zero, whatever its sign
	}
	v.digits = digits
	adjust := int64(trailing) - int64(len(frac))

	expNeg := false
	if len(exp) > 0 && (exp[0] == '+' || exp[0] == '-') {
		expNeg = exp[0] == '-'
		exp = exp[1:]
	}
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	if len(exp) <= 18 {
		// Fits an int64 with room for the adjustment, which is bounded by
		// the document size.
		var e int64
		for _, c := range exp {
			e = e*10 + int64(c-'0')
		}
		if expNeg {
			e = -e
		}
		v.exp = e + adjust
		return v, buf
	}
	// Rare enough to pay for math/big. The result goes back to int64 when
	// it fits, so that each value has one representation.
	var e big.Int
	e.SetString(string(exp), 10)
	if expNeg {
		e.Neg(&e)
	}
	e.Add(&e, big.NewInt(adjust))
	if e.IsInt64() {
		v.exp = e.Int64()
	} else {
		v.bigExp = e.Append(nil, 10)
	}
	return v, buf
}

func (v jsonDecimal) hash() uint64 {
	var h uint64
	if len(v.digits) <= 8 {
		// Most numbers are short, and packing their digits is cheaper than
		// a call to the general hash. Digits are non-zero bytes, so the
		// packing is exact.
		for k, c := range v.digits {
			h |= uint64(c) << (8 * k)
		}
	} else {
		h = maphash.Bytes(jsonHashSeed, v.digits)
	}
	h ^= hashTagNumber ^ uint64(v.exp)*0xff51afd7ed558ccd
	if v.neg {
		h ^= hashTagNeg
	}
	if v.bigExp != nil {
		h ^= maphash.Bytes(jsonHashSeed, v.bigExp) ^ hashTagBigExp
	}
	return mix64(h)
}

func (v jsonDecimal) equal(w jsonDecimal) bool {
	return v.neg == w.neg && v.exp == w.exp && bytes.Equal(v.digits, w.digits) && bytes.Equal(v.bigExp, w.bigExp)
}

func (d *jsonDoc) string(i int) (int32, int, error) {
	end, t, h, err := d.scanString(i)
	if err != nil {
		return 0, end, err
	}
	n := jsonNode{kind: jsonString, start: int32(i), end: int32(end), hash: h ^ hashTagString,
		first: t.off, n: t.n, decoded: t.decoded}
	return d.add(n), end, nil
}

// scanString reads the string token starting at i and returns its end, where
// its decoded text is, and the hash of that text (untagged: keys are only
// ever compared with keys).
func (d *jsonDoc) scanString(i int) (end int, t jsonText, h uint64, err error) {
	end, slow, err := d.stringEnd(i)
	if err != nil {
		return end, t, 0, err
	}
	t = jsonText{off: int32(i + 1), n: int32(end - i - 2)}
	if slow {
		// Escapes and invalid UTF-8 are rare in configuration; leaving them
		// to encoding/json guarantees the same decoded text (including its
		// U+FFFD replacements) as the code that decodes the payload.
		var s string
		if err := json.Unmarshal(d.src[i:end], &s); err != nil {
			return i, t, 0, fmt.Errorf("string at offset %d: %w", i, err)
		}
		t = jsonText{off: int32(len(d.text)), n: int32(len(s)), decoded: true}
		d.text = append(d.text, s...)
	}
	return end, t, maphash.Bytes(jsonHashSeed, d.textOf(t)), nil
}

func (d *jsonDoc) textOf(t jsonText) []byte {
	if t.decoded {
		return d.text[t.off : t.off+t.n]
	}
	return d.src[t.off : t.off+t.n]
}

// stringEnd returns the end of the string token starting at i and whether
// its text needs decoding.
func (d *jsonDoc) stringEnd(i int) (end int, slow bool, err error) {
	src := d.src
	for j := i + 1; j < len(src); {
		// Plain ASCII runs are nearly all of a string's bytes.
		for j < len(src) && plainStringByte[src[j]] {
			j++
		}
		if j >= len(src) {
			break
		}
		c := src[j]
		switch {
		case c == '"':
			return j + 1, slow, nil
		case c == '\\':
			slow = true
			if j+1 >= len(src) {
				return j + 1, slow, errJSONEnd
			}
			switch src[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := j + 2; k < j+6; k++ {
					if k >= len(src) {
						return k, slow, errJSONEnd
					}
					if !isHex(src[k]) {
						return k, slow, d.syntaxError(k, "in \\u hexadecimal character escape")
					}
				}
				j += 6
			default:
				return j + 1, slow, d.syntaxError(j+1, "in string escape code")
			}
		case c < 0x20:
			return j, slow, d.syntaxError(j, "in string literal")
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(src[j:])
			if r == utf8.RuneError && size == 1 {
				slow = true
			}
			j += size
		}
	}
	return len(src), slow, errJSONEnd
}

// plainStringByte marks the bytes that stand for themselves inside a string:
// printable ASCII other than the quote and the backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (d *jsonDoc) array(i int) (int32, int, error) {
	if d.depth++; d.depth > jsonMaxDepth {
		return 0, i, fmt.Errorf("exceeded max depth at offset %d", i)
	}
	src, start, base := d.src, i, len(d.stack)
	i = skipSpace(src, i+1)
	if i < len(src) && src[i] == ']' {
		i++
	} else {
		for {
			v, j, err := d.value(i)
			if err != nil {
				return 0, j, err
			}
			d.stack = append(d.stack, v)
			if i = skipSpace(src, j); i >= len(src) {
				return 0, i, errJSONEnd
			}
			if src[i] == ',' {
				i = skipSpace(src, i+1)
				continue
			}
			if src[i] == ']' {
				i++
				break
			}
			return 0, i, d.syntaxError(i, "after array element")
		}
	}
	d.depth--
	elems := d.stack[base:]
	h := hashTagArray
	for _, e := range elems {
		h = combine(h, d.nodes[e].hash)
	}
	n := jsonNode{kind: jsonArray, start: int32(start), end: int32(i), hash: h,
		first: int32(len(d.kids)), n: int32(len(elems))}
	d.kids = append(d.kids, elems...)
	d.stack = d.stack[:base]
	return d.add(n), i, nil
}

func (d *jsonDoc) object(i int) (int32, int, error) {
	if d.depth++; d.depth > jsonMaxDepth {
		return 0, i, fmt.Errorf("exceeded max depth at offset %d", i)
	}
	src, start, base := d.src, i, len(d.pstack)
	i = skipSpace(src, i+1)
	if i < len(src) && src[i] == '}' {
		i++
	} else {
		for {
			if i >= len(src) {
				return 0, i, errJSONEnd
			}
			if src[i] != '"' {
				return 0, i, d.syntaxError(i, "looking for beginning of object key string")
			}
			j, key, kh, err := d.scanString(i)
			if err != nil {
				return 0, j, err
			}
			if i = skipSpace(src, j); i >= len(src) {
				return 0, i, errJSONEnd
			}
			if src[i] != ':' {
				return 0, i, d.syntaxError(i, "after object key")
			}
			v, j, err := d.value(skipSpace(src, i+1))
			if err != nil {
				return 0, j, err
			}
			d.pstack = append(d.pstack, jsonPair{keyHash: kh, key: key, val: v})
			if i = skipSpace(src, j); i >= len(src) {
				return 0, i, errJSONEnd
			}
			if src[i] == ',' {
				i = skipSpace(src, i+1)
				continue
			}
			if src[i] == '}' {
				i++
				break
			}
			return 0, i, d.syntaxError(i, "after object key:value pair")
		}
	}
	d.depth--
	members := d.pstack[base:]
	sorted := false
	if d.mayHaveDuplicates(members) {
		members = d.dedupe(members)
		sorted = true
	}
	// A sum of member hashes does not depend on the order of the members,
	// as object equality does not.
	h := hashTagObject
	for _, p := range members {
		h += mix64(p.keyHash ^ bits.RotateLeft64(d.nodes[p.val].hash, 32))
	}
	n := jsonNode{kind: jsonObject, start: int32(start), end: int32(i), hash: h,
		first: int32(len(d.pairs)), n: int32(len(members)), sorted: sorted}
	d.pairs = append(d.pairs, members...)
	d.pstack = d.pstack[:base]
	return d.add(n), i, nil
}

// mayHaveDuplicates reports whether two members have the same key hash,
// which duplicate keys always do.
func (d *jsonDoc) mayHaveDuplicates(p []jsonPair) bool {
	if len(p) <= 8 {
		for k := 1; k < len(p); k++ {
			for j := range k {
				if p[j].keyHash == p[k].keyHash {
					return true
				}
			}
		}
		return false
	}
	d.hashes = d.hashes[:0]
	for _, m := range p {
		d.hashes = append(d.hashes, m.keyHash)
	}
	slices.Sort(d.hashes)
	for k := 1; k < len(d.hashes); k++ {
		if d.hashes[k-1] == d.hashes[k] {
			return true
		}
	}
	return false
}

// dedupe sorts members by key and keeps only the last of duplicate keys, the
// one encoding/json keeps.
func (d *jsonDoc) dedupe(p []jsonPair) []jsonPair {
	slices.SortStableFunc(p, func(x, y jsonPair) int { return bytes.Compare(d.textOf(x.key), d.textOf(y.key)) })
	w := 0
	for r := range p {
		if r+1 < len(p) && bytes.Equal(d.textOf(p[r].key), d.textOf(p[r+1].key)) {
			continue
		}
		p[w] = p[r]
		w++
	}
	return p[:w]
}

// members returns the members of object node x in key order.
func (d *jsonDoc) members(x int32) []jsonPair {
	n := &d.nodes[x]
	p := d.pairs[n.first : n.first+n.n]
	if !n.sorted {
		cmp := func(x, y jsonPair) int { return bytes.Compare(d.textOf(x.key), d.textOf(y.key)) }
		if len(p) <= 12 {
			// Insertion sort: for the few members of a typical object
			// cheaper than the general sort's setup.
			for k := 1; k < len(p); k++ {
				for j := k; j > 0 && cmp(p[j-1], p[j]) > 0; j-- {
					p[j-1], p[j] = p[j], p[j-1]
				}
			}
		} else {
			slices.SortFunc(p, cmp)
		}
		n.sorted = true
	}
	return p
}

// str returns the decoded text of the string node i.
func (d *jsonDoc) str(i int32) []byte {
	n := &d.nodes[i]
	return d.textOf(jsonText{off: n.first, n: n.n, decoded: n.decoded})
}

func (d *jsonDoc) raw(i int32) []byte {
	n := &d.nodes[i]
	return d.src[n.start:n.end]
}

// combine chains the hash of an array element onto that of the elements
// before it. Element hashes are already well mixed, so one multiplication
// suffices.
func combine(h, x uint64) uint64 {
	return bits.RotateLeft64(h^x, 27) * 0x9e3779b97f4a7c15
}

// mix64 is the SplitMix64 finaliser: a cheap bijection that spreads every
// input bit over the output.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// differ walks two parsed documents side by side and collects changes.
type differ struct {
	a, b *jsonDoc
	path []byte // JSON Pointer of the values being compared
	out  []Change
	// Old/New values and paths are appended to shared buffers and cut out
	// at the end, so that a change costs no allocation of its own.
	vals    []byte
	paths   []byte
	pathEnd []int32
	numA    []byte
	numB    []byte
	// matches holds the aligned element pairs of the arrays being diffed,
	// innermost array last.
	matches  []lcsMatch
	vf, vb   []int
	na, nb   []int32
	pa, pb   []int32
	ha, hb   []uint64
	verified []int32
	seen     map[uint64]uint8
	// costLimit overrides the default bound on exact alignment; tests lower
	// it to reach the fallback with small inputs.
	costLimit int
}

type lcsMatch struct{ i, j int32 }

func (df *differ) finish() []Change {
	if len(df.out) == 0 {
		return nil
	}
	paths := string(df.paths)
	start := int32(0)
	for k := range df.out {
		df.out[k].Path = paths[start:df.pathEnd[k]]
		start = df.pathEnd[k]
	}
	return df.out
}

func (df *differ) emit(kind ChangeKind, ai, bi int32) {
	c := Change{Kind: kind}
	if ai >= 0 {
		c.Old = df.value(df.a, ai)
	}
	if bi >= 0 {
		c.New = df.value(df.b, bi)
	}
	df.out = append(df.out, c)
	df.paths = append(df.paths, df.path...)
	df.pathEnd = append(df.pathEnd, int32(len(df.paths)))
}

// value returns a compact copy of node i. The capacity is cut to the length
// so that an append by the caller cannot run into the next value.
func (df *differ) value(d *jsonDoc, i int32) json.RawMessage {
	s := len(df.vals)
	if k := d.nodes[i].kind; k == jsonArray || k == jsonObject {
		df.vals = appendCompact(df.vals, d.raw(i))
	} else {
		df.vals = append(df.vals, d.raw(i)...)
	}
	e := len(df.vals)
	return json.RawMessage(df.vals[s:e:e])
}

// appendCompact appends valid JSON src without insignificant whitespace.
func appendCompact(dst, src []byte) []byte {
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			j := i + 1
			for src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func (df *differ) pushKey(key []byte) int {
	mark := len(df.path)
	df.path = append(df.path, '/')
	for _, c := range key {
		switch c {
		case '~':
			df.path = append(df.path, '~', '0')
		case '/':
			df.path = append(df.path, '~', '1')
		default:
			df.path = append(df.path, c)
		}
	}
	return mark
}

func (df *differ) pushIndex(i int32) int {
	mark := len(df.path)
	df.path = append(df.path, '/')
	df.path = strconv.AppendInt(df.path, int64(i), 10)
	return mark
}

// same reports whether node x of a and node y of b are equal JSON values.
func (df *differ) same(x, y int32) bool {
	return df.a.nodes[x].hash == df.b.nodes[y].hash && df.equal(x, y)
}

// equal is the exact comparison behind the hashes, so that a hash collision
// can cost time but never correctness.
func (df *differ) equal(x, y int32) bool {
	an, bn := &df.a.nodes[x], &df.b.nodes[y]
	if an.kind != bn.kind || an.hash != bn.hash {
		return false
	}
	// Identical text is the common case and settles it at memcmp speed.
	if bytes.Equal(df.a.raw(x), df.b.raw(y)) {
		return true
	}
	switch an.kind {
	case jsonNumber:
		var va, vb jsonDecimal
		va, df.numA = parseDecimal(df.numA, df.a.raw(x))
		vb, df.numB = parseDecimal(df.numB, df.b.raw(y))
		return va.equal(vb)
	case jsonString:
		return bytes.Equal(df.a.str(x), df.b.str(y))
	case jsonArray:
		if an.n != bn.n {
			return false
		}
		ea := df.a.kids[an.first : an.first+an.n]
		eb := df.b.kids[bn.first : bn.first+bn.n]
		for k := range ea {
			if !df.equal(ea[k], eb[k]) {
				return false
			}
		}
		return true
	case jsonObject:
		if an.n != bn.n {
			return false
		}
		pa, pb := df.a.members(x), df.b.members(y)
		for k := range pa {
			if !bytes.Equal(df.a.textOf(pa[k].key), df.b.textOf(pb[k].key)) || !df.equal(pa[k].val, pb[k].val) {
				return false
			}
		}
		return true
	}
	return true // null, true, false: the kind is the value
}

// node diffs node x of a against node y of b at df.path.
func (df *differ) node(x, y int32) {
	an, bn := &df.a.nodes[x], &df.b.nodes[y]
	if an.hash == bn.hash && df.equal(x, y) {
		return
	}
	switch {
	case an.kind != bn.kind:
		df.emit(Modified, x, y)
	case an.kind == jsonObject:
		df.object(x, y)
	case an.kind == jsonArray:
		df.array(an, bn)
	default:
		df.emit(Modified, x, y)
	}
}

func (df *differ) object(x, y int32) {
	pa, pb := df.a.members(x), df.b.members(y)
	i, j := 0, 0
	for i < len(pa) || j < len(pb) {
		var c int
		switch {
		case i == len(pa):
			c = 1
		case j == len(pb):
			c = -1
		default:
			c = bytes.Compare(df.a.textOf(pa[i].key), df.b.textOf(pb[j].key))
		}
		switch {
		case c < 0:
			mark := df.pushKey(df.a.textOf(pa[i].key))
			df.emit(Removed, pa[i].val, -1)
			df.path = df.path[:mark]
			i++
		case c > 0:
			mark := df.pushKey(df.b.textOf(pb[j].key))
			df.emit(Added, -1, pb[j].val)
			df.path = df.path[:mark]
			j++
		default:
			mark := df.pushKey(df.a.textOf(pa[i].key))
			df.node(pa[i].val, pb[j].val)
			df.path = df.path[:mark]
			i++
			j++
		}
	}
}

func (df *differ) array(an, bn *jsonNode) {
	ea := df.a.kids[an.first : an.first+an.n]
	eb := df.b.kids[bn.first : bn.first+bn.n]
	base := len(df.matches)
	df.align(ea, eb)
	end := len(df.matches)
	// The gaps between aligned pairs are diffed after the alignment is
	// complete, so the scratch space of align is free for nested arrays;
	// nested alignments append above end and leave df.matches[base:end]
	// as it is (even if they move it).
	var pi, pj int32
	for k := base; k <= end; k++ {
		mi, mj := int32(len(ea)), int32(len(eb))
		if k < end {
			mi, mj = df.matches[k].i, df.matches[k].j
		}
		df.gap(ea[pi:mi], eb[pj:mj], pj)
		pi, pj = mi+1, mj+1
	}
	df.matches = df.matches[:base]
}

// gap reports the elements between two aligned pairs: ga were in old, gb are
// in new, and at is where they start in the array as it stands when the gap
// is reached (all earlier changes applied), which is also where gb starts in
// new.
func (df *differ) gap(ga, gb []int32, at int32) {
	p := min(len(ga), len(gb))
	for t := 0; t < p; t++ {
		mark := df.pushIndex(at + int32(t))
		df.node(ga[t], gb[t])
		df.path = df.path[:mark]
	}
	// Highest index first: each removal then names the element it removes
	// by its place in the array as it stands, with no repeated index.
	for t := len(ga) - 1; t >= p; t-- {
		mark := df.pushIndex(at + int32(t))
		df.emit(Removed, ga[t], -1)
		df.path = df.path[:mark]
	}
	for t := p; t < len(gb); t++ {
		mark := df.pushIndex(at + int32(t))
		df.emit(Added, -1, gb[t])
		df.path = df.path[:mark]
	}
}

// align appends to df.matches the pairs (i, j), ascending, of a longest
// common subsequence of the elements ea (old) and eb (new).
func (df *differ) align(ea, eb []int32) {
	n, m := len(ea), len(eb)
	pre := 0
	for pre < n && pre < m && df.same(ea[pre], eb[pre]) {
		pre++
	}
	suf := 0
	for suf < n-pre && suf < m-pre && df.same(ea[n-1-suf], eb[m-1-suf]) {
		suf++
	}
	for k := range pre {
		df.matches = append(df.matches, lcsMatch{int32(k), int32(k)})
	}
	if pre+suf < n && pre+suf < m {
		df.alignMiddle(ea[pre:n-suf], eb[pre:m-suf], int32(pre))
	}
	for k := suf; k > 0; k-- {
		df.matches = append(df.matches, lcsMatch{int32(n - k), int32(m - k)})
	}
}

// Bounds on the edit distance explored by Myers' algorithm, which costs
// O((N+M)·D) time. A handful of scattered edits is found by a cheap first
// try; beyond that, elements found on one side only are dropped first (they
// cannot be part of a common subsequence, and in lists of distinct entries
// they are all the differences), and the second try gets a budget of about
// 2^25 steps, enough for any array of a few thousand elements to be aligned
// exactly.
const (
	lcsFirstLimit  = 256
	lcsSecondWork  = 1 << 25
	lcsSecondLimit = 1024
)

// alignMiddle aligns ea and eb, whose first and last elements differ; off is
// their position in the whole arrays.
func (df *differ) alignMiddle(ea, eb []int32, off int32) {
	first, second := lcsFirstLimit, max(lcsSecondLimit, lcsSecondWork/(len(ea)+len(eb)))
	if df.costLimit > 0 {
		first, second = df.costLimit, df.costLimit
	}
	base := len(df.matches)
	r := df.newLCSRun(ea, eb, first)
	r.off = off
	if r.compare(0, len(ea), 0, len(eb)) {
		return
	}
	df.matches = df.matches[:base]

	if df.seen == nil {
		df.seen = make(map[uint64]uint8, len(ea)+len(eb))
	}
	clear(df.seen)
	for _, x := range ea {
		df.seen[df.a.nodes[x].hash] |= 1
	}
	for _, y := range eb {
		df.seen[df.b.nodes[y].hash] |= 2
	}
	df.na, df.pa = df.na[:0], df.pa[:0]
	for k, x := range ea {
		if df.seen[df.a.nodes[x].hash] == 3 {
			df.na = append(df.na, x)
			df.pa = append(df.pa, off+int32(k))
		}
	}
	df.nb, df.pb = df.nb[:0], df.pb[:0]
	for k, y := range eb {
		if df.seen[df.b.nodes[y].hash] == 3 {
			df.nb = append(df.nb, y)
			df.pb = append(df.pb, off+int32(k))
		}
	}
	r = df.newLCSRun(df.na, df.nb, second)
	r.pa, r.pb = df.pa, df.pb
	if !r.compare(0, len(r.na), 0, len(r.nb)) {
		// Too costly even so: leave the whole middle as one gap, whose
		// elements are then paired in place. Correct, if not minimal.
		df.matches = df.matches[:base]
	}
}

// lcsRun is one run of Myers' linear-space algorithm ("An O(ND) Difference
// Algorithm and Its Variations", 1986, section 4b) over node sequences na
// and nb.
type lcsRun struct {
	df     *differ
	na, nb []int32
	// ha and hb are the hashes of na and nb, side by side for the cache.
	ha, hb []uint64
	// verified[i] is j+1 once na[i] has been found equal to nb[j]: the
	// search and its recursion meet the same pairs again and again, and
	// only the first meeting needs the full comparison.
	verified []int32
	// pa and pb give the array positions of na and nb; nil means off plus
	// the index.
	pa, pb []int32
	off    int32
	limit  int // largest d explored when looking for a middle snake
}

func (r *lcsRun) eq(i, j int) bool {
	if r.ha[i] != r.hb[j] {
		return false
	}
	if r.verified[i] == int32(j+1) {
		return true
	}
	if r.df.equal(r.na[i], r.nb[j]) {
		r.verified[i] = int32(j + 1)
		return true
	}
	return false
}

// newLCSRun prepares a run over na and nb in the differ's scratch space.
func (df *differ) newLCSRun(na, nb []int32, limit int) lcsRun {
	df.ha, df.hb = df.ha[:0], df.hb[:0]
	for _, x := range na {
		df.ha = append(df.ha, df.a.nodes[x].hash)
	}
	for _, y := range nb {
		df.hb = append(df.hb, df.b.nodes[y].hash)
	}
	if cap(df.verified) < len(na) {
		df.verified = make([]int32, len(na))
	}
	df.verified = df.verified[:len(na)]
	clear(df.verified)
	return lcsRun{df: df, na: na, nb: nb, ha: df.ha, hb: df.hb, verified: df.verified, limit: limit}
}

func (r *lcsRun) match(i, j int) {
	if r.pa != nil {
		r.df.matches = append(r.df.matches, lcsMatch{r.pa[i], r.pb[j]})
		return
	}
	r.df.matches = append(r.df.matches, lcsMatch{r.off + int32(i), r.off + int32(j)})
}

// compare appends the matches of na[a0:a1] and nb[b0:b1]. It reports false
// if some middle snake lay beyond the limit; that region is then left
// without matches.
func (r *lcsRun) compare(a0, a1, b0, b1 int) bool {
	for a0 < a1 && b0 < b1 && r.eq(a0, b0) {
		r.match(a0, b0)
		a0, b0 = a0+1, b0+1
	}
	suf := 0
	for a1-suf > a0 && b1-suf > b0 && r.eq(a1-suf-1, b1-suf-1) {
		suf++
	}
	a1, b1 = a1-suf, b1-suf
	ok := true
	if a0 < a1 && b0 < b1 {
		// Both sides non-empty after trimming means at least two edits, so
		// each half around the middle snake has fewer: the recursion ends,
		// and its depth is logarithmic in the edit distance.
		x, y, u, v, found := r.middleSnake(a0, a1, b0, b1)
		if found {
			ok = r.compare(a0, x, b0, y)
			for ; x < u; x, y = x+1, y+1 {
				r.match(x, y)
			}
			ok = r.compare(u, a1, v, b1) && ok
		} else {
			ok = false
		}
	}
	for k := range suf {
		r.match(a1+k, b1+k)
	}
	return ok
}

// middleSnake finds the middle snake (x,y)-(u,v) of an optimal edit path
// from (a0,b0) to (a1,b1) by searching forward from the start and backward
// from the end at once until the two searches overlap.
func (r *lcsRun) middleSnake(a0, a1, b0, b1 int) (x, y, u, v int, ok bool) {
	n, m := a1-a0, b1-b0
	delta := n - m
	odd := delta&1 != 0
	limit := min((n+m+1)/2, r.limit)
	off := limit + 1
	size := 2*limit + 3
	if cap(r.df.vf) < size {
		r.df.vf, r.df.vb = make([]int, size), make([]int, size)
	}
	// vf[off+k]: furthest x reached forward on diagonal k = x - y.
	// vb[off+c]: furthest distance reached backward from (a1,b1) on
	// diagonal c of the reversed sequences, which is diagonal delta-c here.
	vf, vb := r.df.vf[:size], r.df.vb[:size]
	vf[off+1], vb[off+1] = 0, 0
	for d := 0; d <= limit; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && vf[off+k-1] < vf[off+k+1]) {
				x = vf[off+k+1]
			} else {
				x = vf[off+k-1] + 1
			}
			y := x - k
			sx, sy := x, y
			for x < n && y < m && r.eq(a0+x, b0+y) {
				x, y = x+1, y+1
			}
			vf[off+k] = x
			if c := delta - k; odd && c >= -(d-1) && c <= d-1 && x+vb[off+c] >= n {
				return a0 + sx, b0 + sy, a0 + x, b0 + y, true
			}
		}
		for c := -d; c <= d; c += 2 {
			var x int
			if c == -d || (c != d && vb[off+c-1] < vb[off+c+1]) {
				x = vb[off+c+1]
			} else {
				x = vb[off+c-1] + 1
			}
			y := x - c
			sx, sy := x, y
			for x < n && y < m && r.eq(a1-x-1, b1-y-1) {
				x, y = x+1, y+1
			}
			vb[off+c] = x
			if k := delta - c; !odd && k >= -d && k <= d && x+vf[off+k] >= n {
				return a1 - x, b1 - y, a1 - sx, b1 - sy, true
			}
		}
	}
	return 0, 0, 0, 0, false
}
