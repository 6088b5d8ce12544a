package jsondiff

import "strconv"

// Paths are JSON Pointers (RFC 6901), built on one buffer as the walk goes
// down and cut back as it comes up, so that only a reported change copies
// its path.

// pushKey appends the reference token of an object member to the path, with
// "~" written "~0" and "/" written "~1" as RFC 6901 requires, and returns
// the length to cut the path back to.
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

// pushIndex appends the reference token of array index i to the path and
// returns the length to cut the path back to.
func (df *differ) pushIndex(i int32) int {
	mark := len(df.path)
	df.path = append(df.path, '/')
	df.path = strconv.AppendInt(df.path, int64(i), 10)
	return mark
}
