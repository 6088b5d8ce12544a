package jsondiff

import (
	"math/big"
	"strings"
	"testing"
)

func TestDiffNumberEquality(t *testing.T) {
	var spellings []string
	for _, i := range []string{"0", "1", "5", "10", "12", "120"} {
		for _, f := range []string{"", ".0", ".5", ".05", ".50"} {
			for _, e := range []string{"", "e1", "E-1", "e+2", "e-03", "E00"} {
				spellings = append(spellings, i+f+e, "-"+i+f+e)
			}
		}
	}
	decimals := make([]jsonDecimal, len(spellings))
	rats := make([]*big.Rat, len(spellings))
	for i, s := range spellings {
		decimals[i], _ = parseDecimal(nil, []byte(s))
		rats[i], _ = new(big.Rat).SetString(s)
	}
	for i, x := range spellings {
		for j, y := range spellings {
			got, want := decimals[i].equal(decimals[j]), rats[i].Cmp(rats[j]) == 0
			if got != want {
				t.Fatalf("%s and %s: equal %v, want %v", x, y, got, want)
			}
			if got && decimals[i].hash() != decimals[j].hash() {
				t.Fatalf("%s and %s: equal but hashed differently", x, y)
			}
		}
	}
	// Exponents beyond int64 are legal JSON.
	huge := []struct {
		x, y  string
		equal bool
	}{
		{"1e99999999999999999999", "10e99999999999999999998", true},
		{"1e99999999999999999999", "1e99999999999999999998", false},
		{"1e-99999999999999999999", "0.1e-99999999999999999998", true},
		{"-1e-99999999999999999999", "1e-99999999999999999999", false},
		{"0e99999999999999999999", "0", true},
		{"1.5e9223372036854775807", "15e9223372036854775806", true},
		{"1e1000000000000000004", "100000e999999999999999999", true},
		{"1e9223372036854775808", "0.1e9223372036854775809", true},
	}
	for _, h := range huge {
		x, _ := parseDecimal(nil, []byte(h.x))
		y, _ := parseDecimal(nil, []byte(h.y))
		if got := x.equal(y); got != h.equal {
			t.Errorf("%s and %s (%+v, %+v): equal %v, want %v", h.x, h.y, x, y, got, h.equal)
		}
		if h.equal && x.hash() != y.hash() {
			t.Errorf("%s and %s: equal but hashed differently", h.x, h.y)
		}
		if got := diffNumberKey(h.x) == diffNumberKey(h.y); got != h.equal {
			t.Errorf("test bug: diffNumberKey(%s) = %s, diffNumberKey(%s) = %s", h.x, diffNumberKey(h.x), h.y, diffNumberKey(h.y))
		}
	}
}

// diffNumberKey is a reference for number equality, written apart from the
// code under test: the value as (sign, significant digits, exponent) with
// the exponent in math/big, since JSON puts no bound on it.
func diffNumberKey(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	e := new(big.Int)
	if exp != "" {
		e.SetString(strings.TrimPrefix(exp, "+"), 10)
	}
	e.Sub(e, big.NewInt(int64(len(frac))))
	trimmed := strings.TrimRight(digits, "0")
	e.Add(e, big.NewInt(int64(len(digits)-len(trimmed))))
	if trimmed == "" {
		return "0"
	}
	return sign + trimmed + "e" + e.String()
}
