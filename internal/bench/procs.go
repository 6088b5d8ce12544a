package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// child is a program the harness started: the agent, or the floor's
// exporter.
type child struct {
	name string
	cmd  *exec.Cmd
	addr string // host:port of its HTTP server
	log  string // where its stderr goes
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM, waits a few seconds for a graceful exit, then kills.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// waitOK waits up to 30 s for the child's path to answer 200. A child that
// does not is stopped, and the error holds its log.
func (c *child) waitOK(ctx context.Context, path, what string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + c.addr + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.stop()
			log, _ := os.ReadFile(c.log)
			return fmt.Errorf("%s %s after 30 s; its log:\n%s", c.name, what, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startAgent runs the procwatch binary of binDir against servers and root,
// with extra flags after the harness's own, and waits until /readyz
// answers 200.
func startAgent(ctx context.Context, binDir, logDir string, servers []string, root, procfs string, extra ...string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &child{name: "procwatch", addr: addr, log: filepath.Join(logDir, "procwatch-"+filepath.Base(root)+".log")}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }()
	args := append([]string{"--zk", strings.Join(servers, ","), "--path", root,
		"--web.listen-address", addr, "--path.procfs", procfs, "--log.level", "warn"}, extra...)
	c.cmd = exec.Command(filepath.Join(binDir, "procwatch"), args...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	return c, c.waitOK(ctx, "/readyz", "is not ready")
}

// startExporter runs the floor's exporter (see childExporter) from self.
func startExporter(self, logDir string, servers []string, path, procfs string) (*child, error) {
	c := &child{name: "floor exporter", log: filepath.Join(logDir, "exporter-"+filepath.Base(path)+".log")}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }()
	c.cmd = exec.Command(self)
	c.cmd.Env = append(os.Environ(), ChildEnv+"=exporter", "PWB_ZK="+strings.Join(servers, ","), "PWB_PATH="+path, "PWB_PROCFS="+procfs)
	c.cmd.Stderr = logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		if addr, found := strings.CutPrefix(l, "listening "); ok && found {
			c.addr = addr
			return c, nil
		}
	case <-time.After(30 * time.Second):
	}
	c.stop()
	log, _ := os.ReadFile(c.log)
	return nil, fmt.Errorf("the floor exporter did not start; its log:\n%s", log)
}

// scraper fetches /metrics over one kept-alive connection per target.
type scraper struct{ client *http.Client }

// newScraper's timeout is generous: process-exporter's scrape of 10,000
// processes on a busy 2-core machine takes seconds, and a slow scrape is a
// figure to report, not a failure.
func newScraper() *scraper {
	return &scraper{client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}}
}

func (s *scraper) metrics(addr string) ([]byte, error) {
	resp, err := s.client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return body, err
}

func (s *scraper) close() { s.client.CloseIdleConnections() }

// sides is the agent and the floor's exporter started on the same list, and
// the scraper that reads both: the set-up sections 2 and 6 share.
type sides struct {
	agent, floor *child
	sc           *scraper
	logDir       string
}

// startSides writes list to the agent's root (through zkstate) and to the
// floor's raw node, then starts the agent binary and the floor's exporter
// on them, logging under a temporary directory named with logPrefix.
func startSides(ctx context.Context, e *env, bin string, servers []string, root, rawPath string, list watchlist.Document, logPrefix string) (*sides, error) {
	globs := append([]string(nil), list.Globs...)
	if err := writeWatchList(ctx, servers, root, globs); err != nil {
		return nil, err
	}
	raw, err := connectRaw(ctx, servers)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(watchlist.Document{Globs: globs})
	if err = ensurePath(raw, rawPath); err == nil {
		_, err = raw.Set(rawPath, data, -1)
	}
	raw.Close()
	if err != nil {
		return nil, err
	}

	s := &sides{}
	if s.logDir, err = os.MkdirTemp("", logPrefix); err != nil {
		return nil, err
	}
	if s.agent, err = startAgent(ctx, bin, s.logDir, servers, root, "/proc"); err != nil {
		s.close()
		return nil, err
	}
	if s.floor, err = startExporter(e.cfg.Self, s.logDir, servers, rawPath, "/proc"); err != nil {
		s.close()
		return nil, err
	}
	s.sc = newScraper()
	return s, nil
}

// writeWatchList makes globs the watch list at root, through zkstate as
// procctl writes it.
func writeWatchList(ctx context.Context, servers []string, root string, globs []string) error {
	sess, err := connectSession(ctx, servers)
	if err != nil {
		return err
	}
	defer sess.Close()
	st, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, root, watchlist.Document{Globs: globs}, zkstate.WithoutMembership())
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	_, err = st.Update(ctx, func(w *watchlist.Document) error { w.Globs = globs; return nil })
	return err
}

func (s *sides) close() {
	if s.sc != nil {
		s.sc.close()
	}
	if s.floor != nil {
		s.floor.stop()
	}
	if s.agent != nil {
		s.agent.stop()
	}
	_ = os.RemoveAll(s.logDir)
}
