package zkstate

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// decodePayload turns a document into a fresh T. It never panics: anything
// that is not JSON, has trailing data, does not fit T, breaks the strict
// rules (when strict) or fails validate is an error wrapping
// ErrInvalidPayload. Fields T does not know are ignored here and preserved
// by encodePayload.
func decodePayload[T any](data []byte, validate func(T) error, strict bool) (T, error) {
	var v, zero T
	invalid := func(reason error) (T, error) {
		return zero, &InvalidPayloadError{Version: -1, Raw: data, Reason: reason}
	}
	// Unmarshal rejects trailing data itself, and is cheaper than a Decoder.
	if err := json.Unmarshal(data, &v); err != nil {
		return invalid(err)
	}
	if strict || isStrictDocument[T]() {
		if err := checkStrict(data, reflect.TypeFor[T]()); err != nil {
			return invalid(err)
		}
	}
	if validate != nil {
		if err := validate(v); err != nil {
			return invalid(err)
		}
	}
	return v, nil
}

// decode is decodePayload with the Store's rules.
func (s *Store[T]) decode(data []byte) (T, error) {
	return decodePayload(data, s.validate, s.o.strict)
}

// Decode decodes a document as a Store opened with the same options would
// read it from ZooKeeper: of opts only WithStrictDecoding counts, and T's
// own rules (Checker, StrictDocument) apply. It is for copies of a document
// kept elsewhere (a cache file, an operator's edit), so that they are held
// to the same rules. The error wraps ErrInvalidPayload (an
// *InvalidPayloadError, Version -1).
func Decode[T any](data []byte, opts ...Option) (T, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return decodePayload(data, validatorOf[T](), o.strict)
}

// Checker is a payload type with rules of its own beyond fitting the type
// (a field that must be present, a bound on a list). Every Store of such a
// T, and Decode, apply Check to each document read or written: a document
// failing it is an invalid payload. The rules live with the type, so no
// program that opens the Store can forget them, and a Store cannot be given
// the rules of another type.
type Checker interface{ Check() error }

// StrictDocument is a payload type whose documents are always decoded as
// WithStrictDecoding decodes them, whoever opens the Store: a document
// people and other tools write by hand says so itself. The method is a
// marker; it is never called.
type StrictDocument interface{ DecodeStrictly() }

// isStrictDocument reports whether T declares itself a StrictDocument.
func isStrictDocument[T any]() bool {
	_, ok := any(*new(T)).(StrictDocument)
	return ok
}

// validatorOf returns the rules a T is held to, its own Check (see
// Checker), or nil when it has none.
func validatorOf[T any]() func(T) error {
	if _, ok := any(*new(T)).(Checker); !ok {
		return nil
	}
	return func(v T) (err error) {
		// A Check with a pointer receiver may meet the nil of "null".
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("the document's Check panicked: %v", r)
			}
		}()
		return any(v).(Checker).Check()
	}
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

// knownFields returns the JSON keys a struct type decodes. It reports false
// for types that are not structs: for those "unknown fields" has no meaning.
func knownFields(t reflect.Type) (*structFields, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	return fieldsOf(t), true
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
