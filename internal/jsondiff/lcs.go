package jsondiff

// lcsMatch pairs element i of the old array with its equal, element j of the
// new one.
type lcsMatch struct{ i, j int32 }

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
