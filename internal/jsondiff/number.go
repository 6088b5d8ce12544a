package jsondiff

import (
	"bytes"
	"hash/maphash"
	"math/big"
)

// number parses the number token at i. Its node's hash is that of its exact
// decimal value, so that every spelling of one number hashes alike.
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
