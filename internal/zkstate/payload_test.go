package zkstate

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    config
		wantErr bool
	}{
		{name: "globs", in: `{"globs":["a","b*"]}`, want: config{Globs: []string{"a", "b*"}}},
		{name: "unknown fields ignored", in: `{"globs":["a"],"future":{"x":1}}`, want: config{Globs: []string{"a"}}},
		{name: "empty object", in: `{}`},
		{name: "null globs", in: `{"globs":null}`},
		{name: "case-insensitive key", in: `{"Globs":["a"]}`, want: config{Globs: []string{"a"}}},
		{name: "not json", in: `nginx*`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
		{name: "truncated", in: `{"globs":["a"`, wantErr: true},
		{name: "wrong type", in: `{"globs":"a"}`, wantErr: true},
		{name: "wrong element type", in: `{"globs":[1]}`, wantErr: true},
		{name: "trailing data", in: `{"globs":[]} {}`, wantErr: true},
		{name: "array document", in: `["a"]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePayload[config]([]byte(tt.in), nil)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidPayload) {
					t.Fatalf("err = %v, want ErrInvalidPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeKeepsUnknownFields(t *testing.T) {
	type tagged struct {
		Globs   []string `json:"globs"`
		Comment string   `json:"comment,omitempty"`
		Skip    string   `json:"-"`
	}
	tests := []struct {
		name string
		v    tagged
		base string
		want string
	}{
		{"no base", tagged{Globs: []string{"a"}}, ``, `{"globs":["a"]}`},
		{"unknown kept", tagged{Globs: []string{"b"}}, `{"globs":["a"],"owner":"infra"}`, `{"globs":["b"],"owner":"infra"}`},
		{"cleared omitempty field is not resurrected", tagged{Globs: []string{"a"}}, `{"globs":["a"],"comment":"old"}`, `{"globs":["a"]}`},
		{"json:- field name is unknown", tagged{}, `{"Skip":"x"}`, `{"Skip":"x","globs":null}`},
		{"base not an object", tagged{Globs: []string{"a"}}, `[1]`, `{"globs":["a"]}`},
		{"base invalid", tagged{Globs: []string{"a"}}, `{{`, `{"globs":["a"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodePayload(tt.v, []byte(tt.base))
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("encoded %s (-want +got):\n%s", got, diff)
			}
		})
	}
}

// FuzzDecodePayload feeds the decoder whatever another ZooKeeper client might
// write: it must never panic, must fail only with ErrInvalidPayload, and
// whatever it accepts must survive an encode/decode round trip, unknown
// fields included.
func FuzzDecodePayload(f *testing.F) {
	for _, seed := range []string{
		`{"globs":["sshd","nginx*"]}`, `{"globs":[]}`, `{}`, `null`, ``, `{"globs":"x"}`,
		`{"globs":["a"],"extra":{"deep":[1,2,{"x":null}]}}`, `{"GLOBS":["a"]}`, `[`, "\xff", `{"globs":["\u0000"]}`,
		`{"globs":["a"]} x`, `1e400`, `{"globs":[` + "\"" + "a" + "\"" + `],"globs":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodePayload[config](data, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error does not wrap ErrInvalidPayload: %v", err)
			}
			return
		}
		out, err := encodePayload(v, data)
		if err != nil {
			t.Fatalf("encode of an accepted value: %v", err)
		}
		back, err := decodePayload[config](out, nil)
		if err != nil {
			t.Fatalf("re-decode of %q (from %q): %v", out, data, err)
		}
		if !cmp.Equal(v, back, cmp.Comparer(func(a, b []string) bool {
			return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b))
		})) {
			t.Fatalf("round trip changed the value: %#v -> %#v", v, back)
		}
		// Unknown top-level fields of an object document survive.
		var before map[string]json.RawMessage
		if json.Unmarshal(data, &before) == nil {
			var after map[string]json.RawMessage
			if err := json.Unmarshal(out, &after); err != nil {
				t.Fatalf("encoded %q is not an object", out)
			}
			for k := range before {
				if known, _ := knownFields(typeOfConfig); !known.has(k) {
					if _, ok := after[k]; !ok {
						t.Fatalf("unknown field %q lost: %q -> %q", k, data, out)
					}
				}
			}
		}
	})
}

var typeOfConfig = reflect.TypeFor[config]()
