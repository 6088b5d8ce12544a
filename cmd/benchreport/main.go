// Command benchreport runs procwatch's benchmarks against their floors
// (internal/bench) in one process, prints the table and writes it, with the
// machine's description, into docs/BENCHMARKS.md. `make bench` runs it.
//
// Usage:
//
//	go run ./cmd/benchreport [-out docs/BENCHMARKS.md] [-sections 1,3] [-profile DIR] [-quick]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/procwatch/procwatch/internal/bench"
)

func main() {
	if ok, code := bench.RunChild(); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "docs/BENCHMARKS.md", "file to write the report into, between its markers (empty: do not write)")
	sections := fs.String("sections", "", "comma-separated section numbers to run, 1-8 (default all)")
	profile := fs.String("profile", "", "directory for CPU and allocation profiles of each section")
	quick := fs.Bool("quick", false, "tiny counts: a smoke test of the harness, figures meaningless")
	module := fs.String("module", ".", "root of the procwatch module (the agent and procctl are built from it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := bench.Config{Quick: *quick, ModuleDir: *module, ProfileDir: *profile, Log: stderr}
	if *sections != "" {
		for s := range strings.SplitSeq(*sections, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 || n > 8 {
				fmt.Fprintf(stderr, "benchreport: -sections: %q is not a section number 1-8\n", s)
				return 2
			}
			cfg.Sections = append(cfg.Sections, n)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "benchreport: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, rep.Markdown())
	var missed []string
	for _, r := range rep.Rows {
		if r.Verdict == bench.Missed {
			missed = append(missed, fmt.Sprintf("%s: %s (%s, target %s)", r.Section, r.Case, r.Ratio, r.Target))
		}
	}
	fmt.Fprintf(stdout, "\nbenchreport: %d rows in %s; %d target(s) missed\n", len(rep.Rows), rep.Duration.Round(1e9), len(missed))
	for _, m := range missed {
		fmt.Fprintf(stdout, "  missed: %s\n", m)
	}
	if *out != "" {
		if err := rep.WriteDoc(*out); err != nil {
			fmt.Fprintf(stderr, "benchreport: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "benchreport: wrote %s\n", *out)
	}
	if len(rep.Failures) > 0 {
		return 1
	}
	return 0
}
