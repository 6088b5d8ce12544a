package jsondiff

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"unicode/utf8"
)

// string parses the string token at i into a node whose hash is that of the
// decoded text, so that "A" and "\u0041" hash alike.
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
		// U+FFFD replacements) as the code that decodes the document.
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
