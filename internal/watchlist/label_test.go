package watchlist

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLabels(t *testing.T) {
	got, err := ParseLabels([]string{"role=db", "region=eu-west-1", "expr=a=b", "empty="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"role": "db", "region": "eu-west-1", "expr": "a=b", "empty": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseLabels (-want +got):\n%s", diff)
	}
	if back, _ := ParseLabels(SplitLabels(FormatLabels(want))); !cmp.Equal(want, back) {
		t.Errorf("FormatLabels does not read back: %q -> %v", FormatLabels(want), back)
	}
	for in, wantIn := range map[string]string{
		"role":                          "want KEY=VALUE",
		"=db":                           "must not be empty",
		"-x=1":                          "must start",
		"ro le=db":                      `holds ' '`,
		strings.Repeat("k", 64) + "=v":  "more than 63",
		"k=" + strings.Repeat("v", 256): "more than 255",
		"k=a\tb":                        "must not hold",
	} {
		if _, err := ParseLabels([]string{in}); err == nil || !strings.Contains(err.Error(), wantIn) {
			t.Errorf("ParseLabels(%q) = %v, want an error with %q", in, err, wantIn)
		}
	}
	if _, err := ParseLabels([]string{"role=db", "role=web"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a key given twice: %v", err)
	}
}

func TestSplitLabels(t *testing.T) {
	if diff := cmp.Diff([]string{"role=db", "region=eu"}, SplitLabels(" role=db , ,region=eu,")); diff != "" {
		t.Errorf("SplitLabels (-want +got):\n%s", diff)
	}
	if got := SplitLabels(""); len(got) != 0 {
		t.Errorf("SplitLabels(\"\") = %q", got)
	}
}
