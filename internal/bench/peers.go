package bench

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// The peers the footprint section runs beside the agent: Debian's builds,
// which `make bench-deps` installs.
const (
	processExporterBin = "/usr/bin/prometheus-process-exporter"
	nodeExporterBin    = "/usr/bin/prometheus-node-exporter"
)

// requirePeer fails with how to install a peer whose binary is missing: a
// row compared with a peer is never silently left out.
func requirePeer(bin, pkg string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s is missing, so the comparison with it cannot run: install it with `make bench-deps` or `apt-get install --no-install-recommends %s`", bin, pkg)
	}
	return nil
}

// startProcessExporter runs process-exporter configured with the agent's
// globs (processExporterConfig). Its smaps and per-thread readings, on by
// default, are turned off: the agent reads neither (smaps_rollup only
// with --collect.pss), and the comparison is of the same work.
func startProcessExporter(ctx context.Context, logDir string, globs []string) (*child, error) {
	if err := requirePeer(processExporterBin, "prometheus-process-exporter"); err != nil {
		return nil, err
	}
	cfg, err := processExporterConfig(globs)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(logDir, "process-exporter.yml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		return nil, err
	}
	return startPeer(ctx, "process-exporter", logDir, processExporterBin, func(addr string) []string {
		return []string{"-config.path", path, "-web.listen-address", addr, "-gather-smaps=false", "-threads=false"}
	})
}

// startNodeExporter runs node_exporter with its processes collector alone.
func startNodeExporter(ctx context.Context, logDir string) (*child, error) {
	if err := requirePeer(nodeExporterBin, "prometheus-node-exporter"); err != nil {
		return nil, err
	}
	return startPeer(ctx, "node_exporter", logDir, nodeExporterBin, func(addr string) []string {
		return []string{"--collector.disable-defaults", "--collector.processes", "--web.listen-address=" + addr}
	})
}

// startPeer starts bin with the arguments args gives for a free loopback
// address and waits until its /metrics answers 200.
func startPeer(ctx context.Context, name, logDir, bin string, args func(addr string) []string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &child{name: name, addr: addr, log: filepath.Join(logDir, name+".log")}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }()
	c.cmd = exec.Command(bin, args(addr)...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return c, c.waitOK(ctx, "/metrics", "does not serve /metrics")
}

// processExporterConfig translates procwatch globs into process-exporter's
// configuration, one group per glob so that both export per-glob figures:
// a plain name is a comm matcher, a name pattern and a cmdline: pattern
// become regular expressions on the command line (process-exporter has no
// glob matcher). Other kinds are refused; the footprint globs need none.
func processExporterConfig(globs []string) ([]byte, error) {
	type group struct {
		Name    string   `json:"name"`
		Comm    []string `json:"comm,omitempty"`
		Cmdline []string `json:"cmdline,omitempty"`
	}
	var cfg struct {
		ProcessNames []group `json:"process_names"`
	}
	for _, g := range globs {
		gr := group{Name: g}
		switch {
		case strings.HasPrefix(g, "cmdline:"):
			gr.Cmdline = []string{"^" + globRegexp(strings.TrimPrefix(g, "cmdline:"), ".*") + "$"}
		case strings.ContainsAny(g, "/:"):
			return nil, fmt.Errorf("bench: no process-exporter matcher for glob %q", g)
		case strings.ContainsAny(g, "*?[{"):
			// The name is the executable's base name: argv[0] after its
			// last slash, up to the first space.
			gr.Cmdline = []string{`^(\S*/)?` + globRegexp(g, `[^/ ]*`) + `( |$)`}
		default:
			gr.Comm = []string{g}
		}
		cfg.ProcessNames = append(cfg.ProcessNames, gr)
	}
	// JSON is YAML: process-exporter's YAML parser reads it as it is.
	return json.MarshalIndent(cfg, "", "  ")
}

// globRegexp turns a glob with * and ? (no classes) into a regular
// expression, star standing for what * may match.
func globRegexp(glob, star string) string {
	var b strings.Builder
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(star)
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// sumMetric sums the samples of the metric family name on a /metrics
// page (labels or not) and counts them.
func sumMetric(body []byte, name string) (sum float64, samples int) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			sum += v
			samples++
		}
	}
	return sum, samples
}

// binaryInfo is a binary's size and whether it still has its symbol table.
type binaryInfo struct {
	size     int64
	stripped bool
	static   bool
}

func (b binaryInfo) String() string {
	symbols, linking := "with symbols", "dynamically linked"
	if b.stripped {
		symbols = "stripped"
	}
	if b.static {
		linking = "static"
	}
	return fmt.Sprintf("%s (%s, %s)", fmtBytes(float64(b.size)), symbols, linking)
}

func readBinaryInfo(path string) (binaryInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return binaryInfo{}, err
	}
	f, err := elf.Open(path)
	if err != nil {
		return binaryInfo{}, err
	}
	defer func() { _ = f.Close() }()
	static := true
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			static = false
		}
	}
	return binaryInfo{size: st.Size(), stripped: f.Section(".symtab") == nil, static: static}, nil
}
