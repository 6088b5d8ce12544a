package jsondiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func diffMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkDiff runs Diff on a pair of valid documents and checks everything
// that must hold for any such pair.
func checkDiff(t testing.TB, old, new []byte) []Change {
	t.Helper()
	changes, err := Diff(old, new)
	if err != nil {
		t.Fatalf("Diff(%s, %s): %v", old, new, err)
	}
	checkReplay(t, old, new, changes)
	for _, doc := range [][]byte{old, new} {
		if same, err := Diff(doc, doc); err != nil || same != nil {
			t.Fatalf("Diff(%s, itself) = %v, %v; want nil, nil", doc, same, err)
		}
	}
	// Spelling is not content: re-encoding a document (sorted keys,
	// different escapes, no spaces) must not make it differ.
	if v, err := diffDecode(old); err == nil {
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if same, err := Diff(old, again); err != nil || same != nil {
			t.Fatalf("Diff(%s, %s) = %v, %v; want nil, nil", old, again, same, err)
		}
	}
	return changes
}

// checkReplay checks the changes are well formed and turn old into new.
func checkReplay(t testing.TB, old, new []byte, changes []Change) {
	t.Helper()
	if changes != nil && len(changes) == 0 {
		t.Fatalf("Diff(%s, %s) returned an empty non-nil slice", old, new)
	}
	for _, c := range changes {
		if (c.Old == nil) != (c.Kind == Added) || (c.New == nil) != (c.Kind == Removed) {
			t.Fatalf("Diff(%s, %s): malformed change %#v", old, new, c)
		}
		for _, v := range []json.RawMessage{c.Old, c.New} {
			if v == nil {
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil || !bytes.Equal(buf.Bytes(), v) {
				t.Fatalf("Diff(%s, %s): value %q in %v is not compact JSON (%v)", old, new, v, c, err)
			}
		}
	}
	got, err := applyChanges(old, changes)
	if err != nil {
		t.Fatalf("Diff(%s, %s) = %v: does not apply: %v", old, new, changes, err)
	}
	if !diffSameJSON(t, got, new) {
		t.Fatalf("Diff(%s, %s) = %v: applied, gives %s", old, new, changes, got)
	}
}

// applyChanges applies changes to doc one after the other, like an RFC 6902
// JSON Patch of "add", "remove" and "replace" operations, but stricter: an
// add must not overwrite a member, and the value removed or replaced must
// equal the change's Old.
func applyChanges(doc []byte, changes []Change) ([]byte, error) {
	v, err := diffDecode(doc)
	if err != nil {
		return nil, err
	}
	for i, c := range changes {
		tokens, err := diffSplitPointer(c.Path)
		if err != nil {
			return nil, fmt.Errorf("change %d (%v): %w", i, c, err)
		}
		if v, err = applyOneChange(v, tokens, c); err != nil {
			return nil, fmt.Errorf("change %d (%v): %w", i, c, err)
		}
	}
	return json.Marshal(v)
}

func diffSplitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("pointer %q does not start with /", p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, tok := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

func applyOneChange(v any, tokens []string, c Change) (any, error) {
	if len(tokens) == 0 {
		if c.Kind != Modified {
			return nil, errors.New("only a replacement can target the whole document")
		}
		return diffReplaceValue(v, c)
	}
	tok, rest := tokens[0], tokens[1:]
	switch t := v.(type) {
	case map[string]any:
		cur, ok := t[tok]
		if len(rest) > 0 || c.Kind != Added {
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
		}
		switch {
		case len(rest) > 0:
			nv, err := applyOneChange(cur, rest, c)
			t[tok] = nv
			return t, err
		case c.Kind == Added:
			if ok {
				return nil, fmt.Errorf("member %q already exists", tok)
			}
			nv, err := diffDecode(c.New)
			t[tok] = nv
			return t, err
		case c.Kind == Removed:
			if _, err := diffReplaceValue(cur, c); err != nil {
				return nil, err
			}
			delete(t, tok)
			return t, nil
		default:
			nv, err := diffReplaceValue(cur, c)
			t[tok] = nv
			return t, err
		}
	case []any:
		idx, err := strconv.Atoi(tok)
		if err != nil || idx < 0 || strconv.Itoa(idx) != tok {
			return nil, fmt.Errorf("bad array index %q", tok)
		}
		if idx > len(t) || idx == len(t) && (len(rest) > 0 || c.Kind != Added) {
			return nil, fmt.Errorf("index %d out of range [0, %d)", idx, len(t))
		}
		switch {
		case len(rest) > 0:
			t[idx], err = applyOneChange(t[idx], rest, c)
			return t, err
		case c.Kind == Added:
			nv, err := diffDecode(c.New)
			return slices.Insert(t, idx, nv), err
		case c.Kind == Removed:
			if _, err := diffReplaceValue(t[idx], c); err != nil {
				return nil, err
			}
			return slices.Delete(t, idx, idx+1), nil
		default:
			t[idx], err = diffReplaceValue(t[idx], c)
			return t, err
		}
	default:
		return nil, fmt.Errorf("cannot descend into %T with %q", v, tok)
	}
}

// diffReplaceValue checks that cur is c.Old and returns c.New decoded.
func diffReplaceValue(cur any, c Change) (any, error) {
	old, err := diffDecode(c.Old)
	if err != nil {
		return nil, fmt.Errorf("old value: %w", err)
	}
	if !diffEqualValues(cur, old) {
		got, _ := json.Marshal(cur)
		return nil, fmt.Errorf("value is %s, change says it was %s", got, c.Old)
	}
	if c.New == nil {
		return nil, nil
	}
	return diffDecode(c.New)
}

func diffDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the value in %q", data)
	}
	return v, nil
}

func diffSameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	va, err := diffDecode(a)
	if err != nil {
		t.Fatalf("decoding %s: %v", a, err)
	}
	vb, err := diffDecode(b)
	if err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return diffEqualValues(va, vb)
}

// diffEqualValues is equality of decoded JSON values, numbers by exact value.
func diffEqualValues(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, va := range a {
			vb, ok := b[k]
			if !ok || !diffEqualValues(va, vb) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !diffEqualValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		return ok && diffNumberKey(string(a)) == diffNumberKey(string(b))
	default:
		return a == b
	}
}
