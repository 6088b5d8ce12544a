package zkstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
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
			got, err := decodePayload[config]([]byte(tt.in), nil, false)
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

// grouped is a document with nested structs, as the watch list's groups
// will be: strict decoding must follow T's structure all the way down.
type grouped struct {
	Meta
	Globs  []string          `json:"globs"`
	Groups map[string]*group `json:"groups,omitempty"`
}

type Meta struct {
	Owner string `json:"owner,omitempty"`
}

type group struct {
	Hosts  []string          `json:"hosts,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Globs  []string          `json:"globs"`
}

func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name, in string
		// wantErr is the reason strict decoding gives; "" means accepted,
		// by lax decoding too.
		wantErr string
	}{
		{name: "plain", in: `{"globs":["a"]}`},
		{name: "unknown fields allowed", in: `{"globs":["a"],"future":{"x":1,"y":[{"z":2}]}}`},
		{name: "empty object is the type's business", in: `{}`},
		{name: "null document is the type's business", in: `null`},
		{name: "embedded field", in: `{"owner":"infra","globs":[]}`},
		{name: "map keys are data, not fields", in: `{"globs":[],"groups":{"Web":{"globs":["nginx"]},"web":{"globs":[]}}}`},
		{name: "nested", in: `{"globs":[],"groups":{"db":{"labels":{"role":"db","Role":"x"},"globs":["pg*"]}}}`},

		{name: "key in another case", in: `{"GLOBS":["a"]}`,
			wantErr: `key "GLOBS" at the top level matches the field "globs" only when case is ignored; write it "globs"`},
		{name: "key capitalised", in: `{"Globs":["a"]}`,
			wantErr: `key "Globs" at the top level matches the field "globs" only when case is ignored`},
		{name: "key folding beyond ASCII", in: `{"glob\u017f":["a"]}`,
			wantErr: `key "globſ" at the top level matches the field "globs" only when case is ignored`},
		{name: "embedded field in another case", in: `{"Owner":"x","globs":[]}`,
			wantErr: `key "Owner" at the top level matches the field "owner"`},
		{name: "duplicate key", in: `{"globs":["a"],"globs":[]}`,
			wantErr: `duplicate key "globs" at the top level`},
		{name: "duplicate key spelled with an escape", in: `{"globs":["a"],"glob\u0073":[]}`,
			wantErr: `duplicate key "globs" at the top level`},
		{name: "duplicate key in an unknown field", in: `{"globs":[],"future":[{"x":1,"x":2}]}`,
			wantErr: `duplicate key "x" in /future/0`},
		{name: "duplicate map key", in: `{"globs":[],"groups":{"web":{"globs":[]},"web":{"globs":["x"]}}}`,
			wantErr: `duplicate key "web" in /groups`},
		{name: "nested key in another case", in: `{"globs":[],"groups":{"web":{"Hosts":["web-*"],"globs":[]}}}`,
			wantErr: `key "Hosts" in /groups/web matches the field "hosts" only when case is ignored; write it "hosts"`},
		{name: "nested duplicate key", in: `{"globs":[],"groups":{"a/b":{"globs":["x"],"globs":[]}}}`,
			wantErr: `duplicate key "globs" in /groups/a~1b`},
		{name: "nested duplicate label", in: `{"globs":[],"groups":{"db":{"labels":{"role":"db","role":"web"},"globs":[]}}}`,
			wantErr: `duplicate key "role" in /groups/db/labels`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lax, laxErr := decodePayload[grouped]([]byte(tt.in), nil, false)
			if laxErr != nil {
				t.Fatalf("lax decoding refuses it: %v", laxErr)
			}
			got, err := decodePayload[grouped]([]byte(tt.in), nil, true)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("strict decoding: %v", err)
				}
				if diff := cmp.Diff(lax, got); diff != "" {
					t.Errorf("strict decodes otherwise than lax (-lax +strict):\n%s", diff)
				}
				return
			}
			var ip *InvalidPayloadError
			if !errors.As(err, &ip) || !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("err = %v, want an InvalidPayloadError", err)
			}
			if !strings.Contains(ip.Reason.Error(), tt.wantErr) {
				t.Errorf("reason %q, want it to say %q", ip.Reason, tt.wantErr)
			}
			if string(ip.Raw) != tt.in {
				t.Errorf("Raw = %q, want the document", ip.Raw)
			}
		})
	}
}

func TestDecodeWithOptions(t *testing.T) {
	for _, tt := range []struct {
		in      string
		opts    []Option
		checked bool // decode a listed, whose Check wants "globs"
		wantErr bool
	}{
		{`{"GLOBS":[]}`, nil, false, false},
		{`{"GLOBS":[]}`, []Option{WithStrictDecoding()}, false, true},
		{`{}`, []Option{WithStrictDecoding()}, false, false},
		{`{}`, nil, true, true},
		{`{"globs":[]}`, []Option{WithStrictDecoding()}, true, false},
	} {
		var err error
		if tt.checked {
			_, err = Decode[listed]([]byte(tt.in), tt.opts...)
		} else {
			_, err = Decode[config]([]byte(tt.in), tt.opts...)
		}
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrInvalidPayload)) {
			t.Errorf("Decode(%s, %d options, checked %v) = %v, want error %v", tt.in, len(tt.opts), tt.checked, err, tt.wantErr)
		}
	}
}

// TestStrictStoreKeepsLastGood: a Store under WithStrictDecoding, of a
// type with a Check, treats every document the lax rules would misread as invalid
// payload: the last good value stays, it is counted and logged, and the
// next good document is taken. Writes keep unknown fields.
func TestStrictStoreKeepsLastGood(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	var logs testutil.Buffer
	st := createStore(t, newSession(t, zks.ConnectString()), testRoot,
		listed{Globs: []string{"sshd"}}, WithStrictDecoding(),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	rec := record(t, st)
	payload := testRoot + "/payload"
	for i, junk := range []string{
		`{}`, `null`, `{"globs":null}`, `{"glob":["sshd"]}`, `{"GLOBS":["sshd"]}`, `{"globs":["sshd"],"globs":[]}`,
		`{"globs":["sshd"],"extra":{"k":1,"k":2}}`,
	} {
		stat, err := raw.Set(payload, []byte(junk), -1)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, "invalid payload "+junk, func() bool {
			return st.Stats().InvalidPayloads == uint64(i+1)
		})
		if _, info := st.DirtyRead(); !info.Invalid || info.Version != 0 || info.ServerVersion != stat.Version {
			t.Errorf("%s: %+v, want invalid, version 0 kept, server at %d", junk, info, stat.Version)
		}
		if got, err := st.Read(); err != nil || !cmp.Equal(got.Globs, []string{"sshd"}) {
			t.Errorf("%s: Read = %v, %v; want the last good [sshd]", junk, got.Globs, err)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("version=%d ", stat.Version)) {
			t.Errorf("%s: version %d not logged:\n%s", junk, stat.Version, logs.String())
		}
	}
	if evs := rec.snapshot(); len(evs) != 0 {
		t.Errorf("invalid documents made events: %s", describe(evs))
	}

	// An unknown field survives an Update; a field in another case does not
	// come back as an unknown one.
	stat, err := raw.Set(payload, []byte(`{"globs":["sshd"],"future":{"x":1}}`), -1)
	if err != nil {
		t.Fatal(err)
	}
	rec.waitVersion(t, 5*time.Second, stat.Version)
	v, err := st.Update(testCtx(t, 10*time.Second), func(c *listed) error {
		c.Globs = append(c.Globs, "nginx*")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := raw.Get(payload)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"globs": []any{"sshd", "nginx*"}, "future": map[string]any{"x": 1.0}}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("version %d (-want +got):\n%s", v, diff)
	}
	if _, info := st.DirtyRead(); info.Invalid {
		t.Error("still invalid after a good document")
	}

	// CompareAndSwapJSON holds an edit to the same rules.
	if _, err := st.CompareAndSwapJSON(testCtx(t, 10*time.Second), v, []byte(`{"globs":[],"Globs":["x"]}`)); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("CompareAndSwapJSON of a key in another case: %v, want ErrInvalidPayload", err)
	}
	if _, info := st.DirtyRead(); info.ServerVersion != v {
		t.Errorf("a refused edit was written: server at %d, want %d", info.ServerVersion, v)
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
	f.Add([]byte(`{"globs":[],"groups":{"web":{"Hosts":["w*"],"globs":[]}}}`))
	f.Add([]byte(`{"globs":[],"groups":{"web":{"globs":[]},"web":{"globs":[]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Strict decoding accepts a subset of what lax decoding does, and
		// reads it the same way.
		strictV, strictErr := decodePayload[grouped](data, nil, true)
		laxV, laxErr := decodePayload[grouped](data, nil, false)
		if strictErr != nil && !errors.Is(strictErr, ErrInvalidPayload) {
			t.Fatalf("strict error does not wrap ErrInvalidPayload: %v", strictErr)
		}
		if strictErr == nil && (laxErr != nil || !cmp.Equal(strictV, laxV)) {
			t.Fatalf("strict accepts %q as %#v, lax gives %#v, %v", data, strictV, laxV, laxErr)
		}

		v, err := decodePayload[config](data, nil, false)
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
		back, err := decodePayload[config](out, nil, false)
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

// BenchmarkDecodePayload measures what strict decoding adds to reading a
// document, at the watch list's limit (2,000 globs) and far beyond it.
func BenchmarkDecodePayload(b *testing.B) {
	for _, n := range []int{2000, 100000} {
		globs := make([]string, n)
		for i := range globs {
			globs[i] = fmt.Sprintf("cmdline:/usr/bin/daemon-%d *", i)
		}
		doc, err := json.Marshal(config{Globs: globs})
		if err != nil {
			b.Fatal(err)
		}
		for _, strict := range []bool{false, true} {
			b.Run(fmt.Sprintf("globs=%d/strict=%v", n, strict), func(b *testing.B) {
				b.SetBytes(int64(len(doc)))
				for b.Loop() {
					if _, err := decodePayload[config](doc, nil, strict); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
