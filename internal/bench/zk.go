package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// sessionTimeout is the session timeout of every client the harness opens,
// the agent's default.
const sessionTimeout = 10 * time.Second

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// connectRaw opens a plain go-zookeeper client, the floor's client, and
// waits until it has a session.
func connectRaw(ctx context.Context, servers []string) (*zk.Conn, error) {
	has := make(chan struct{})
	var once sync.Once
	conn, _, err := zk.Connect(servers, sessionTimeout, zk.WithLogger(quietLogger{}), zk.WithEventCallback(func(ev zk.Event) {
		if ev.Type == zk.EventSession && ev.State == zk.StateHasSession {
			once.Do(func() { close(has) })
		}
	}))
	if err != nil {
		return nil, err
	}
	select {
	case <-has:
		return conn, nil
	case <-ctx.Done():
		conn.Close()
		return nil, fmt.Errorf("bench: no ZooKeeper session with %v: %w", servers, context.Cause(ctx))
	}
}

// connectSession opens a zkstate Session, as an agent does.
func connectSession(ctx context.Context, servers []string) (*zkstate.Session, error) {
	return zkstate.Connect(ctx, servers, zkstate.WithSessionTimeout(sessionTimeout))
}

// parallel runs fn(i) for i in [0, n) on at most width goroutines and
// returns the first error.
func parallel(n, width int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, width)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// ensurePath creates path and its parents as empty persistent nodes.
func ensurePath(conn *zk.Conn, path string) error {
	for i := 1; i <= len(path); i++ {
		if i == len(path) || path[i] == '/' {
			_, err := conn.Create(path[:i], nil, 0, zk.WorldACL(zk.PermAll))
			if err != nil && !errors.Is(err, zk.ErrNodeExists) {
				return fmt.Errorf("bench: create %s: %w", path[:i], err)
			}
		}
	}
	return nil
}

// clusters starts the standalone server and the ensemble on first use and
// keeps them for the whole run, so every section meets the same servers.
type clusters struct {
	mu         sync.Mutex
	standalone *zktest.Cluster
	ensemble   *zktest.Cluster
}

// get returns the standalone server (n = 1) or the ensemble (n = 3).
func (c *clusters) get(n int) (*zktest.Cluster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.standalone
	if n != 1 {
		p = &c.ensemble
	}
	if *p != nil {
		return *p, nil
	}
	cl, err := zktest.StartCluster(n)
	if err != nil {
		return nil, fmt.Errorf("%w (run `make deps` if ZooKeeper or Java is missing)", err)
	}
	*p = cl
	return cl, nil
}

func (c *clusters) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range []*zktest.Cluster{c.standalone, c.ensemble} {
		if cl != nil {
			_ = cl.Close()
		}
	}
	c.standalone, c.ensemble = nil, nil
}

func clusterName(n int) string {
	if n == 1 {
		return "standalone"
	}
	return "3-node ensemble"
}

// jvmHeap describes one ZooKeeper JVM's memory as jstat sees it.
type jvmHeap struct {
	pid        int
	rss        uint64
	oldPct     float64 // old generation occupancy, % of its capacity
	fullGCs    int
	gcTime     time.Duration
	heapUsedMB float64
}

func (h jvmHeap) String() string {
	return fmt.Sprintf("pid %d: RSS %s, heap used %.0f MiB of -Xmx128m, old gen %.0f%% full, %d full GCs, %s in GC since start",
		h.pid, fmtBytes(float64(h.rss)), h.heapUsedMB, h.oldPct, h.fullGCs, h.gcTime.Round(time.Millisecond))
}

// clusterJVMs returns the heap state of every member of cl: the java
// children of this process whose zoo.cfg holds one of cl's client ports.
func clusterJVMs(cl *zktest.Cluster) []jvmHeap {
	ports := map[string]bool{}
	for _, a := range cl.Servers() {
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			ports[a[i+1:]] = true
		}
	}
	entries, _ := os.ReadDir("/proc")
	var out []jvmHeap
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readPIDStat(pid)
		if err != nil || st.ppid != os.Getpid() || st.comm != "java" {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		cfg, _ := os.ReadFile(args[len(args)-1])
		mine := false
		for line := range strings.SplitSeq(string(cfg), "\n") {
			if v, ok := strings.CutPrefix(line, "clientPort="); ok && ports[strings.TrimSpace(v)] {
				mine = true
			}
		}
		if !mine {
			continue
		}
		h := jvmHeap{pid: pid}
		if u, err := readProcUsage(pid); err == nil {
			h.rss = u.rss
		}
		h.read()
		out = append(out, h)
	}
	return out
}

// read fills in jstat's view of the heap; fields stay zero if jstat is
// missing (it comes with the JDK, not every JRE).
func (h *jvmHeap) read() {
	out, err := exec.Command("jstat", "-gc", strconv.Itoa(h.pid)).Output()
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		return
	}
	keys, vals := strings.Fields(lines[0]), strings.Fields(lines[1])
	get := func(k string) float64 {
		for i, key := range keys {
			if key == k && i < len(vals) {
				v, _ := strconv.ParseFloat(vals[i], 64)
				return v
			}
		}
		return 0
	}
	used := get("S0U") + get("S1U") + get("EU") + get("OU") // KiB
	h.heapUsedMB = used / 1024
	if oc := get("OC"); oc > 0 {
		h.oldPct = 100 * get("OU") / oc
	}
	h.fullGCs = int(get("FGC"))
	h.gcTime = time.Duration(get("GCT") * float64(time.Second))
}
