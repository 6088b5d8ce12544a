package zkpath

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateRoot(t *testing.T) {
	for _, tc := range []struct {
		path string
		rule string // "" when valid
	}{
		{"/procwatch", ""},
		{"/team/procwatch", ""},
		{"/a.b/c-d_e", ""},
		{"/zookeeper-not", ""},
		{"", "it is empty"},
		{"procwatch", "does not start with /"},
		{"/", "top node"},
		{"/procwatch/", "ends with /"},
		{"/a//b", "empty segment"},
		{"/a/./b", `"." segment`},
		{"/a/..", `".." segment`},
		{"/a\x00b", "U+0000"},
		{"/a\nb", "U+000A"},
		{"/zookeeper", "server's own subtree"},
		{"/zookeeper/quota", "server's own subtree"},
	} {
		err := ValidateRoot(tc.path)
		switch {
		case tc.rule == "" && err != nil:
			t.Errorf("ValidateRoot(%q) = %v, want nil", tc.path, err)
		case tc.rule != "" && err == nil:
			t.Errorf("ValidateRoot(%q) = nil, want an error saying %q", tc.path, tc.rule)
		case tc.rule != "" && (!strings.Contains(err.Error(), tc.rule) || !errors.Is(err, ErrInvalidRoot)):
			t.Errorf("ValidateRoot(%q) = %v, want ErrInvalidRoot saying %q", tc.path, err, tc.rule)
		}
	}
}

// FuzzValidateRoot: every path it accepts is one ZooKeeper accepts too, by
// the rules it states (no panic on any input).
func FuzzValidateRoot(f *testing.F) {
	for _, s := range []string{"/procwatch", "/a//b", "/", "", "/zookeeper", "/a/../b", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidateRoot(p) != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.ContainsRune(p, 0) {
			t.Fatalf("accepted %q", p)
		}
		for _, seg := range strings.Split(p[1:], "/") {
			if seg == "." || seg == ".." || seg == "" {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
	})
}
