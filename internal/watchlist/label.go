package watchlist

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Limits of an agent label. A label is published in member info (at most
// 4 KiB for everything) and matched by groups; it is an identity, not a
// description.
const (
	MaxLabelKey   = 63
	MaxLabelValue = 255
)

// ValidateLabel checks one KEY=VALUE label of an agent or of a group's
// selector: a key of 1 to 63 of [A-Za-z0-9_.-] starting with a letter or a
// digit, and a value of at most 255 bytes without control characters or
// ',' (PROCWATCH_LABELS separates labels with commas). An empty value is
// a value: a group may require role="".
func ValidateLabel(key, value string) error {
	if key == "" {
		return errors.New("a label key must not be empty")
	}
	if len(key) > MaxLabelKey {
		return fmt.Errorf("label key %q is %d bytes, more than %d", key, len(key), MaxLabelKey)
	}
	for i, c := range key {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if i == 0 && !alnum {
			return fmt.Errorf("label key %q must start with a letter or a digit", key)
		}
		if !alnum && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("label key %q holds %q: only letters, digits, '_', '.' and '-' are allowed", key, c)
		}
	}
	if len(value) > MaxLabelValue {
		return fmt.Errorf("label %s: the value is %d bytes, more than %d", key, len(value), MaxLabelValue)
	}
	if i := strings.IndexFunc(value, func(r rune) bool { return r == ',' || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("label %s=%q: the value must not hold %q", key, value, value[i:i+1])
	}
	return nil
}

// ParseLabel parses one KEY=VALUE (the value may hold '=') and validates
// it.
func ParseLabel(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("label %q: want KEY=VALUE", s)
	}
	if err := ValidateLabel(key, value); err != nil {
		return "", "", err
	}
	return key, value, nil
}

// ParseLabels parses labels given as KEY=VALUE each, as on the command line
// (--label, repeated) or comma separated in PROCWATCH_LABELS (split them
// first with SplitLabels). A key given twice is an error: which one was
// meant cannot be known.
func ParseLabels(kvs []string) (map[string]string, error) {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, err := ParseLabel(kv)
		if err != nil {
			return nil, err
		}
		if old, dup := out[k]; dup {
			return nil, fmt.Errorf("label %s given twice (%q and %q)", k, old, v)
		}
		out[k] = v
	}
	return out, nil
}

// SplitLabels splits a comma-separated list of KEY=VALUE labels, as in
// PROCWATCH_LABELS, ignoring empty items and the spaces around each.
func SplitLabels(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// FormatLabels writes labels as KEY=VALUE,... sorted by key: the form
// ParseLabels(SplitLabels(s)) reads back.
func FormatLabels(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range sortedKeys(labels) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

// labelsMatch reports whether every label of want is in have with the same
// value.
func labelsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}
