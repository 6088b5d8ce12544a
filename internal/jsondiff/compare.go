package jsondiff

import (
	"bytes"
	"encoding/json"
)

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

// finish returns the collected changes, their paths cut out of one string so
// that all of them cost a single allocation.
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
