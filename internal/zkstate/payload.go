package zkstate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// decodePayload turns a document into a fresh T. It never panics: anything
// that is not JSON, has trailing data or does not fit T is an error wrapping
// ErrInvalidPayload. Fields T does not know are ignored here and preserved by
// encodePayload.
func decodePayload[T any](data []byte, validate func(T) error) (T, error) {
	var v, zero T
	invalid := func(reason error) (T, error) {
		return zero, &InvalidPayloadError{Version: -1, Raw: data, Reason: reason}
	}
	// Unmarshal rejects trailing data itself, and is cheaper than a Decoder.
	if err := json.Unmarshal(data, &v); err != nil {
		return invalid(err)
	}
	if validate != nil {
		if err := validate(v); err != nil {
			return invalid(err)
		}
	}
	return v, nil
}

// encodePayload encodes v, carrying over from base the top-level fields T
// does not know, so a document written by a newer version of a program keeps
// its new fields when an older one updates it.
func encodePayload[T any](v T, base []byte) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %w", ErrInvalidPayload, err)
	}
	known, ok := knownFields(reflect.TypeFor[T]())
	if !ok || len(base) == 0 {
		return out, nil
	}
	var old map[string]json.RawMessage
	if json.Unmarshal(base, &old) != nil || len(old) == 0 {
		return out, nil
	}
	var extra []string
	for k := range old {
		if !known.has(k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return out, nil
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(out, &cur); err != nil {
		return out, nil // T encodes to something other than an object
	}
	for _, k := range extra {
		if _, dup := cur[k]; !dup {
			cur[k] = old[k]
		}
	}
	merged, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %w", ErrInvalidPayload, err)
	}
	return merged, nil
}

// fieldSet holds the JSON names a struct type decodes, folded the way
// encoding/json matches them (case-insensitively).
type fieldSet map[string]struct{}

func (f fieldSet) has(name string) bool {
	_, ok := f[strings.ToLower(name)]
	return ok
}

var fieldCache sync.Map // reflect.Type -> fieldSet

// knownFields lists the JSON keys a struct type decodes. It reports false for
// types that are not structs: for those "unknown fields" has no meaning.
func knownFields(t reflect.Type) (fieldSet, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	if f, ok := fieldCache.Load(t); ok {
		return f.(fieldSet), true
	}
	f := fieldSet{}
	collectFields(t, f, 0)
	fieldCache.Store(t, f)
	return f, true
}

func collectFields(t reflect.Type, f fieldSet, depth int) {
	if depth > 8 { // embedded cycles through pointers
		return
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				collectFields(et, f, depth+1)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f[strings.ToLower(name)] = struct{}{}
	}
}

// cloneValue returns a deep copy of a value decoded from raw, by decoding raw
// again: the Store's snapshot is shared with readers and must never be
// mutated, so Update hands its function a private copy.
func cloneValue[T any](raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	return v, nil
}
