package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// ChildEnv names the environment variable that makes RunChild run one of
// the floor's programs instead of the caller's main: "rawset" (a CLI that
// sets a node with a raw client, the floor of procctl) or "exporter" (a
// raw watcher serving /metrics, the floor of the agent) or "netlink" (a
// bare reader of process events, the floor of the agent's). Their settings
// come in PWB_ZK, PWB_PATH, PWB_DATA and PWB_PROCFS.
const ChildEnv = "PROCWATCH_BENCH_CHILD"

// RunChild runs the child program ChildEnv names, if any, and returns true
// with its exit code; without ChildEnv it returns false at once. Mains
// (cmd/benchreport, this package's tests) call it first thing.
func RunChild() (bool, int) {
	mode, ok := os.LookupEnv(ChildEnv)
	if !ok {
		return false, 0
	}
	var err error
	switch mode {
	case "rawset":
		err = childRawSet()
	case "exporter":
		err = childExporter()
	case "netlink":
		err = childNetlink()
	default:
		err = fmt.Errorf("unknown child program %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", mode, err)
		return true, 1
	}
	return true, 0
}

func childServers() []string { return strings.Split(os.Getenv("PWB_ZK"), ",") }

// childRawSet connects, sets PWB_PATH to PWB_DATA and exits: the least a
// command-line tool changing the list must do.
func childRawSet() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := connectRaw(ctx, childServers())
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Set(os.Getenv("PWB_PATH"), []byte(os.Getenv("PWB_DATA")), -1)
	return err
}

// childExporter is the floor of the agent: one raw session whose GetW loop
// follows the watch list at PWB_PATH, and an HTTP server whose /metrics
// lists the globs in force and the number of processes under PWB_PROCFS,
// re-counted (directory read plus one stat read per process) at a scrape
// when the last count is a second old, as the agent re-scans. It prints
// "listening ADDR" on stdout once it serves, and runs until SIGTERM.
func childExporter() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := connectRaw(cctx, childServers())
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	path, procfs := os.Getenv("PWB_PATH"), os.Getenv("PWB_PROCFS")
	var globs atomic.Pointer[[]string]
	globs.Store(new([]string))
	go func() {
		for {
			data, _, ch, err := c.GetW(path)
			if err != nil {
				if errors.Is(err, zk.ErrClosing) || ctx.Err() != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			var w watchlist.Document
			if json.Unmarshal(data, &w) == nil {
				globs.Store(&w.Globs)
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}()

	var (
		mu       sync.Mutex
		fl       = newFloorScanner()
		lastScan time.Time
		procs    int
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		if time.Since(lastScan) >= time.Second {
			procs, _ = fl.scan(procfs, nil)
			lastScan = time.Now()
		}
		n := procs
		mu.Unlock()
		var b strings.Builder
		b.WriteString("floor_processes_scanned " + strconv.Itoa(n) + "\n")
		for _, g := range *globs.Load() {
			fmt.Fprintf(&b, "floor_glob{glob=%q} 1\n", g)
		}
		_, _ = w.Write([]byte(b.String()))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
