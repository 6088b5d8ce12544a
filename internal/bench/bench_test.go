package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The end-to-end and footprint sections start this binary as the
	// floor's programs.
	if ok, code := RunChild(); ok {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) Latencies {
		var l Latencies
		for _, x := range v {
			l = append(l, time.Duration(x)*time.Millisecond)
		}
		return l
	}
	for _, tc := range []struct {
		l    Latencies
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 100, 5 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 1, 1 * time.Millisecond},
		// Nearest rank: the 99th percentile of 100 samples is the 99th.
		{func() Latencies {
			var l Latencies
			for i := 100; i >= 1; i-- {
				l = append(l, time.Duration(i))
			}
			return l
		}(), 99, 99},
	} {
		if got := tc.l.Percentile(tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.l, tc.p, got, tc.want)
		}
	}
}

func TestParsePIDStat(t *testing.T) {
	st, err := parsePIDStat([]byte("4242 (a (b) c) S 7 4242 4242 0 -1 4194560 100 0 0 0 12 34 0 0 20 0 3 0 5555 1000 25 18446744073709551615\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := pidStat{comm: "a (b) c", ppid: 7, utime: 12, stime: 34, start: 5555, rssPages: 25}
	if st != want {
		t.Errorf("parsePIDStat = %+v, want %+v", st, want)
	}
}

// TestFixtureAndFloor checks that the generated tree is one the monitor reads
// as the benchmark expects, and that the floor reads every stat file of it.
func TestFixtureAndFloor(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	if err := writeFixture(root, 250); err != nil {
		t.Fatal(err)
	}
	n, err := newFloorScanner().scan(root, nil)
	if err != nil || n != 250 {
		t.Fatalf("floor read %d stat files (%v), want 250", n, err)
	}
	details := 0
	if _, err := newFloorScanner().scan(root, func(stat []byte) bool { details++; return strings.Contains(string(stat), "(nginx)") }); err != nil {
		t.Fatal(err)
	}
	if details != 250 {
		t.Errorf("details asked for %d processes, want 250", details)
	}
	m, err := newMonitor(context.Background(), root, fixtureGlobs)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every 100th process is an nginx worker: 0, 100 and 200.
	if r.Scanned != 250 || r.Matched != 3 {
		t.Errorf("monitor scanned %d and matched %d, want 250 and 3", r.Scanned, r.Matched)
	}
}

func TestWriteDocKeepsTheAnalysis(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	rep := &Report{Rows: []Row{{Section: "7 diff", Case: "c", Project: "1 ms", Floor: "1 ms", Verdict: Info}}}
	if err := rep.WriteDoc(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	doc := strings.Replace(string(data), "# Benchmarks\n", "# Benchmarks\n\nHand-written intro.\n", 1) + "\n## Analysis\n\nKept.\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	rep.Rows[0].Project = "2 ms"
	if err := rep.WriteDoc(path); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	got := string(data)
	for _, want := range []string{"Hand-written intro.", "## Analysis\n\nKept.", "| 7 diff | c | 2 ms | 1 ms |"} {
		if !strings.Contains(got, want) {
			t.Errorf("document lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, BeginMarker) != 1 || strings.Contains(got, "| 1 ms | 1 ms |") {
		t.Errorf("the generated part was not replaced in place:\n%s", got)
	}
}

// TestRunQuick runs every section with tiny counts against real ZooKeeper
// servers and the built binaries: the harness works end to end, whatever
// the figures.
func TestRunQuick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var log strings.Builder
	rep, err := Run(ctx, Config{Quick: true, ModuleDir: "../..", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) > 0 {
		t.Fatalf("sections failed (run `make deps` if ZooKeeper or Java is missing):\n%s\nlog:\n%s", strings.Join(rep.Failures, "\n"), log.String())
	}
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		seen[r.Section] = true
		if r.Project == "" || r.Floor == "" {
			t.Errorf("row %q has an empty figure: %+v", r.Case, r)
		}
	}
	for _, s := range []string{"1 propagation", "2 end to end", "3 contended writes", "4 reads", "5 scan", "6 footprint", "7 diff", "8 process events"} {
		if !seen[s] {
			t.Errorf("no row for section %s", s)
		}
	}
	if md := rep.Markdown(); !strings.Contains(md, "| cores | ") || !strings.Contains(md, "| kernel | Linux") {
		t.Errorf("the report lacks the machine's description:\n%s", md)
	}
}
