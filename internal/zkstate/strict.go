package zkstate

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Strict decoding (WithStrictDecoding) closes the two doors encoding/json
// leaves open to a document that means something other than it says: a key
// given twice (json keeps the last, silently) and a key that names a field
// only when case is ignored ("GLOBS" fills Globs). Both are refused at any
// depth, following T's structure through structs, maps, slices and arrays.
// Keys T does not know are not refused: a newer program may have written
// them, and encodePayload keeps them.

// checkStrict reports the first duplicate key, or key matching a field of t
// only case-insensitively, in data, which must be a single valid JSON value
// (json.Unmarshal has accepted it). The error names the key and where it is,
// as a JSON Pointer.
func checkStrict(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are skipped; do not parse them as floats
	return strictWalker{dec}.value(t, "")
}

type strictWalker struct{ dec *json.Decoder }

// value consumes one JSON value that decodes into t; t is nil where
// nothing is known of the value's shape (an unknown field, an any), which
// leaves only duplicate keys to look for.
func (w strictWalker) value(t reflect.Type, ptr string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	t = shapeOf(t)
	switch tok {
	case json.Delim('{'):
		return w.object(t, ptr)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, ptr+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		_, err = w.dec.Token() // ]
		return err
	}
	return nil
}

func (w strictWalker) object(t reflect.Type, ptr string) error {
	var fields *structFields
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = fieldsOf(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := make(map[string]struct{})
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		where := ptr + "/" + escapePointer(key)
		if _, dup := seen[key]; dup {
			return fmt.Errorf("duplicate key %q %s", key, at(ptr))
		}
		seen[key] = struct{}{}
		ft := elem
		if fields != nil {
			f, exact := fields.byName[key]
			switch {
			case exact:
				ft = f.typ
			case fields.foldedName(key) != "":
				return fmt.Errorf("key %q %s matches the field %q only when case is ignored; write it %q",
					key, at(ptr), fields.foldedName(key), fields.foldedName(key))
			}
		}
		if err := w.value(ft, where); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

// at names where a key is, for messages: the JSON Pointer of its object.
func at(ptr string) string {
	if ptr == "" {
		return "at the top level"
	}
	return "in " + ptr
}

// escapePointer escapes a key as a JSON Pointer token (RFC 6901).
func escapePointer(key string) string {
	if !strings.ContainsAny(key, "~/") {
		return key
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// shapeOf returns the type whose structure a JSON value decodes by, or nil
// when the type decodes itself (an UnmarshalJSON owns its keys) or is not
// known.
func shapeOf(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// structFields are the JSON keys a struct type decodes, found as
// encoding/json finds them: tags, embedded structs promoted with the
// shallowest field winning and ties broken by a tag, or dropped.
type structFields struct {
	byName map[string]field
	folded map[string]string // foldKey(name) -> name
}

type field struct {
	typ    reflect.Type
	depth  int
	tagged bool
}

// has reports whether encoding/json would decode key into a field,
// exactly or by ignoring case.
func (f *structFields) has(key string) bool {
	_, ok := f.byName[key]
	return ok || f.foldedName(key) != ""
}

// foldedName returns the field name key matches when case is ignored, or "".
func (f *structFields) foldedName(key string) string {
	return f.folded[foldKey(key)]
}

var fieldsCache sync.Map // reflect.Type -> *structFields

// fieldsOf returns the JSON fields of struct type t.
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldsCache.Load(t); ok {
		return f.(*structFields)
	}
	all := map[string][]field{}
	collectFields(t, 0, map[reflect.Type]bool{}, all)
	f := &structFields{byName: map[string]field{}, folded: map[string]string{}}
	for name, cands := range all {
		if best, ok := dominant(cands); ok {
			f.byName[name] = best
			f.folded[foldKey(name)] = name
		}
	}
	fieldsCache.Store(t, f)
	return f
}

func collectFields(t reflect.Type, depth int, visiting map[reflect.Type]bool, out map[string][]field) {
	if visiting[t] {
		return // an embedding cycle through pointers
	}
	visiting[t] = true
	defer delete(visiting, t)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if !sf.IsExported() && et.Kind() != reflect.Struct {
				continue
			}
			if name == "" && et.Kind() == reflect.Struct {
				collectFields(et, depth+1, visiting, out)
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tagged := name != ""
		if !tagged {
			name = sf.Name
		}
		out[name] = append(out[name], field{typ: sf.Type, depth: depth, tagged: tagged})
	}
}

// dominant picks the field encoding/json uses among those of one name: the
// shallowest, and among equally shallow ones the only tagged one; none when
// that is still ambiguous.
func dominant(cands []field) (field, bool) {
	minDepth := cands[0].depth
	for _, c := range cands {
		minDepth = min(minDepth, c.depth)
	}
	var top []field
	for _, c := range cands {
		if c.depth == minDepth {
			top = append(top, c)
		}
	}
	if len(top) == 1 {
		return top[0], true
	}
	var tagged []field
	for _, c := range top {
		if c.tagged {
			tagged = append(tagged, c)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return field{}, false
}

// foldKey folds a key so that foldKey(a) == foldKey(b) exactly when
// encoding/json matches a to b ignoring case (bytes.EqualFold): every rune
// becomes the smallest of its Unicode simple-fold orbit.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				r = next
				break
			}
			r = next
		}
		b.WriteRune(r)
	}
	return b.String()
}
