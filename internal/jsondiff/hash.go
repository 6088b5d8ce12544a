package jsondiff

import (
	"hash/maphash"
	"math/bits"
)

// jsonHashSeed is shared by both documents of a Diff (their hashes must be
// comparable) and by all calls, which costs nothing and keeps hashing free of
// per-call setup.
var jsonHashSeed = maphash.MakeSeed()

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
