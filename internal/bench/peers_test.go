package bench

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestProcessExporterConfig checks that each kind of glob the footprint
// section uses becomes a process-exporter group matching the same
// processes, and that a kind without a translation is refused.
func TestProcessExporterConfig(t *testing.T) {
	data, err := processExporterConfig([]string{"pwb-g00", "cmdline:*/pwb-g45 600", "pwb-g49*"})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ProcessNames []struct {
			Name    string
			Comm    []string
			Cmdline []string
		} `json:"process_names"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("not JSON (so not YAML either): %v\n%s", err, data)
	}
	if len(cfg.ProcessNames) != 3 {
		t.Fatalf("%d groups, want 3:\n%s", len(cfg.ProcessNames), data)
	}
	if g := cfg.ProcessNames[0]; g.Name != "pwb-g00" || len(g.Comm) != 1 || g.Comm[0] != "pwb-g00" || g.Cmdline != nil {
		t.Errorf("a plain name: %+v, want a comm matcher", g)
	}
	for _, tc := range []struct {
		group      int
		cmdline    string
		wantsMatch bool
	}{
		{1, "/tmp/procwatch-bench-sleep-1/pwb-g45 600", true},
		{1, "/tmp/procwatch-bench-sleep-1/pwb-g45 6000", false},
		{1, "/tmp/x/pwb-g46 600", false},
		{2, "/tmp/procwatch-bench-sleep-1/pwb-g49 600", true},
		{2, "pwb-g49x", true},
		{2, "/tmp/pwb-g4 600", false},
		{2, "/tmp/pwb-g49/sleep 600", false},
	} {
		g := cfg.ProcessNames[tc.group]
		if len(g.Cmdline) != 1 {
			t.Fatalf("group %q: cmdline %q, want one expression", g.Name, g.Cmdline)
		}
		if got := regexp.MustCompile(g.Cmdline[0]).MatchString(tc.cmdline); got != tc.wantsMatch {
			t.Errorf("group %q (%s) on %q: match %v, want %v", g.Name, g.Cmdline[0], tc.cmdline, got, tc.wantsMatch)
		}
	}
	if _, err := processExporterConfig([]string{"/usr/sbin/sshd"}); err == nil {
		t.Error("an executable path was translated, want an error")
	}
}

func TestSumMetric(t *testing.T) {
	page := []byte("# HELP x_total y\nx_total{g=\"a\"} 3\nx_total{g=\"b\"} 4.5\nx_total_other 100\nx_totally{} 7\n")
	if sum, n := sumMetric(page, "x_total"); sum != 7.5 || n != 2 {
		t.Errorf("sumMetric = %v over %d samples, want 7.5 over 2", sum, n)
	}
	if sum, n := sumMetric([]byte("up 1\n"), "up"); sum != 1 || n != 1 {
		t.Errorf("sumMetric of an unlabelled sample = %v over %d, want 1 over 1", sum, n)
	}
}
