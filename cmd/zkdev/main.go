// Command zkdev runs a throwaway local ZooKeeper for the demo (make run,
// make demo) and for trying procwatch by hand.
//
// It starts one server (or an ensemble with --servers 3) from Debian's
// zookeeper package through internal/zktest, on free loopback ports, so it
// never collides with a ZooKeeper already listening on 2181. Once every member
// serves, it prints the connect string on stdout and, with --addr-file, writes
// it to that file, which is how scripts learn where to point --zk. It then
// runs until SIGINT or SIGTERM, and stops every server before it exits; the
// servers' data lives in temporary directories that go with them. Should
// zkdev itself be killed, the kernel kills the servers too (see zktest).
// Like nohup, it leaves SIGINT alone when it was started with SIGINT ignored,
// as a shell script's background commands are.
//
// It exits 1 if a member stops serving on its own, so that whoever started it
// learns that the demo lost its ZooKeeper.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/procwatch/procwatch/internal/zktest"
)

func main() {
	// Signals are caught before the servers start, so a Ctrl-C during the
	// start still stops them rather than killing zkdev half way. A SIGINT
	// ignored on entry stays ignored, as nohup and shells intend: a script
	// that starts zkdev in the background gets the terminal's Ctrl-C itself
	// and can stop its ZooKeeper clients before the server, with SIGTERM.
	sigs := []os.Signal{syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGINT) {
		sigs = append(sigs, syscall.SIGINT)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Health checking: a member that fails this many probes in a row, one every
// probeInterval, is taken for dead. A single failed probe is not: the JVM may
// be busy collecting garbage or, in an ensemble, electing a leader.
const (
	probeInterval = 2 * time.Second
	probeFailures = 3
)

// run is zkdev until ctx ends (a signal, in main), returning its exit code:
// 0 after a clean stop, 1 if ZooKeeper could not start or stopped serving,
// 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zkdev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	servers := fs.Int("servers", 1, "number of ZooKeeper servers: 1 (standalone) or 3 (an ensemble)")
	addrFile := fs.String("addr-file", "", "write the connect string to this file once serving; removed at exit")
	logs := fs.Bool("log", false, "copy the servers' logs to stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: zkdev [flags]\n\nRuns a local ZooKeeper on free loopback ports until SIGINT or SIGTERM.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || (*servers != 1 && *servers != 3) {
		fmt.Fprintln(stderr, "zkdev: want --servers 1 or 3 and no arguments")
		return 2
	}

	var opts []zktest.Option
	if *logs {
		opts = append(opts, zktest.WithLogWriter(stderr))
	}
	start := time.Now()
	c, err := zktest.StartCluster(*servers, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "zkdev: %v\n", err)
		return 1
	}
	defer func() {
		if err := c.Close(); err != nil {
			fmt.Fprintf(stderr, "zkdev: stopping ZooKeeper: %v\n", err)
		}
	}()
	addr := c.ConnectString()
	if *addrFile != "" {
		if err := writeAtomic(*addrFile, addr+"\n"); err != nil {
			fmt.Fprintf(stderr, "zkdev: %v\n", err)
			return 1
		}
		defer os.Remove(*addrFile)
	}
	fmt.Fprintln(stdout, addr)
	fmt.Fprintf(stderr, "zkdev: ZooKeeper serving at %s after %s; Ctrl-C stops it\n", addr, time.Since(start).Round(time.Millisecond))

	if err := watch(ctx, c); err != nil {
		fmt.Fprintf(stderr, "zkdev: %v; stopping\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "zkdev: stopping ZooKeeper")
	return 0
}

// watch probes every member until ctx ends, and returns an error once one
// has failed probeFailures probes in a row.
func watch(ctx context.Context, c *zktest.Cluster) error {
	failures := make([]int, c.Size())
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for i := range failures {
			if _, err := c.Mode(i); err != nil {
				failures[i]++
				if failures[i] >= probeFailures {
					return fmt.Errorf("member %d (%s) stopped serving: %w", i, c.Addr(i), err)
				}
				continue
			}
			failures[i] = 0
		}
	}
}

// writeAtomic writes data to path through a temporary file and a rename, so a
// script polling for the file never reads it half written.
func writeAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".zkdev-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
