package jsondiff

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// jsonMaxDepth is encoding/json's nesting limit, so that Diff accepts exactly
// the documents encoding/json can decode.
const jsonMaxDepth = 10000

// jsonKind is the JSON type of a value; true and false are kinds of their
// own, since the kind alone then says all about the value.
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
