package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// PromQL is read here only far enough to list the metric names an
// expression selects; the expressions' syntax is promtool's job (and
// Prometheus's, in the end-to-end test). No PromQL parser is among the
// module's dependencies, and this is small enough to be tested below.
var (
	// String literals, which may hold anything, including braces.
	promqlString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	// A __name__ matcher names a metric inside the braces.
	promqlNameMatcher = regexp.MustCompile(`__name__\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')`)
	// Label matchers, ranges and subqueries, and Grafana's variables.
	promqlBraces   = regexp.MustCompile(`\{[^}]*\}`)
	promqlBrackets = regexp.MustCompile(`\[[^\]]*\]`)
	grafanaVar     = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	// offset's duration stands outside any brackets: offset 1h, offset -5m.
	promqlOffset = regexp.MustCompile(`(?i)\boffset\s+-?[0-9a-z]+`)
	// Label lists after grouping keywords: by (le, instance).
	promqlGrouping = regexp.MustCompile(`(?i)\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// Numbers, hexadecimal and with exponents: 1e3 is no metric called e3.
	promqlNumber = regexp.MustCompile(`(?i)\b0x[0-9a-f]+\b|(?:\b\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\b`)
	promqlIdent  = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// Grafana's label_values(metric{...}, label) template query.
	grafanaLabelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*\w+\s*\)\s*$`)
)

// promqlKeywords are the words of PromQL that are not metric names.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true,
}

// metricNames returns the metric names expr selects, in order of first use.
func metricNames(expr string) []string {
	if m := grafanaLabelValues.FindStringSubmatch(expr); m != nil {
		expr = m[1]
	}
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, m := range promqlNameMatcher.FindAllStringSubmatch(expr, -1) {
		add(m[1][1 : len(m[1])-1])
	}
	s := promqlString.ReplaceAllString(expr, `""`)
	s = promqlBraces.ReplaceAllString(s, " ")
	s = promqlBrackets.ReplaceAllString(s, " ")
	s = grafanaVar.ReplaceAllString(s, " ")
	s = promqlOffset.ReplaceAllString(s, " ")
	s = promqlGrouping.ReplaceAllString(s, " ")
	s = promqlNumber.ReplaceAllString(s, " ")
	for _, loc := range promqlIdent.FindAllStringIndex(s, -1) {
		word := s[loc[0]:loc[1]]
		// A word before "(" is a function or an aggregation.
		if strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") || promqlKeywords[strings.ToLower(word)] {
			continue
		}
		add(word)
	}
	return names
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`procwatch_glob_processes == 0`, []string{"procwatch_glob_processes"}},
		{`up{job=~"procwatch.*"} == 0`, []string{"up"}},
		{`increase(procwatch_state_invalid_payloads_total[10m]) > 0`, []string{"procwatch_state_invalid_payloads_total"}},
		{`histogram_quantile(0.99, sum by (le, instance) (rate(procwatch_scan_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))`,
			[]string{"procwatch_scan_duration_seconds_bucket"}},
		{`count(up{job=~"$job"} == 0) or vector(0)`, []string{"up"}},
		{`time() - procwatch_glob_oldest_start_time_seconds{glob=~"$glob"}`, []string{"procwatch_glob_oldest_start_time_seconds"}},
		{`sum(a) by (glob) / on (instance) group_left(version) procwatch_build_info`, []string{"a", "procwatch_build_info"}},
		{`-sum by (glob) (rate(b_total{x="}"}[5m] offset 1h))`, []string{"b_total"}},
		{`{__name__="procwatch_globs", job="x"} * 1e3 + 0x1f`, []string{"procwatch_globs"}},
		{`max_over_time(c[5m:1m]) unless bool d`, []string{"c", "d"}},
		{`label_values(procwatch_build_info{job=~"$job"}, instance)`, []string{"procwatch_build_info"}},
		{`label_values(procwatch_build_info, job)`, []string{"procwatch_build_info"}},
		{`sum without (mode) (e) and ignoring(mode) f`, []string{"e", "f"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q; want %q", tc.expr, got, tc.want)
		}
	}
}
