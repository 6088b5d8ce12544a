// Command procwatch is the agent: it follows the watch list shared through
// ZooKeeper and exports per-glob process metrics for Prometheus. This file
// is only flags and wiring; the agent lives in internal/agent.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/prometheus/common/promslog"
	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/buildinfo"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkpath"
)

// version and revision are set at release builds with
// -ldflags "-X main.version=... -X main.revision=..."; left empty,
// buildinfo falls back to what the Go toolchain stamped into the binary.
var version, revision string

func main() {
	setGCPercent()
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr, agent.Run))
}

// usageError marks bad flags, which exit 2 rather than 1.
type usageError struct{ error }

// execute runs the command and turns its outcome into an exit code, in one
// place: 0 after a clean shutdown (or --help, --version), 2 for bad usage,
// 1 for anything else. Help and --version go to stdout, logs and errors to
// stderr.
func execute(args []string, stdout, stderr io.Writer, run func(context.Context, agent.Config) error) int {
	cmd := newCommand(stdout, stderr, run)
	cmd.SetArgs(args)
	err := cmd.Execute()
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "procwatch: %v\nRun 'procwatch --help' for usage.\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "procwatch: %v\n", err)
		return 1
	}
}

// options are the command's flags.
type options struct {
	zk             string
	path           string
	web            webFlags
	cacheFile      string
	sessionTimeout time.Duration
	procfs         string
	collectPSS     bool
	processEvents  bool
	scanInterval   time.Duration
	logLevel       string
	logFormat      string
	zkSecurity     zkopts.Flags
	hostname       string
	labels         []string
	memberInterval time.Duration
}

// The agent's own environment variables, beside the shared ones.
const (
	envHostname = "PROCWATCH_HOSTNAME"
	envLabels   = "PROCWATCH_LABELS"
)

// envVars are the environment variables procwatch reads, each standing in
// for its flag when the flag is not given.
var envVars = append(slices.Clone(zkopts.SharedEnvVars),
	zkopts.EnvVar{Flag: "hostname", Env: envHostname},
	zkopts.EnvVar{Flag: "label", Env: envLabels})

func newCommand(stdout, stderr io.Writer, run func(context.Context, agent.Config) error) *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "procwatch",
		Short: "Export per-glob process metrics for a watch list shared through ZooKeeper",
		Long: `procwatch follows the watch list (process globs) stored in ZooKeeper under
--path, re-matches this host's processes as soon as it changes, and exports
per-glob metrics for Prometheus on /metrics. /healthz answers while the
process runs, /readyz once a watch list is loaded (from ZooKeeper or
--cache-file). Traces, and metrics pushed over OTLP with
OTEL_METRICS_EXPORTER=otlp, are configured by the standard OTEL_* variables.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		Version:       buildinfo.Line(buildinfo.Version(version), buildinfo.Revision(revision)),
		SilenceUsage:  true,
		SilenceErrors: true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := zkopts.ApplyEnv(cmd.Flags(), cmd.Flags().Changed, os.LookupEnv, envVars); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(stderr)
			if err != nil {
				return usageError{err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			cfg.Logger.Info("starting procwatch", "version", cfg.Version, "zk", strings.Join(cfg.Servers, ","),
				"path", cfg.Path, "listen", cfg.ListenAddresses, "procfs", cfg.ProcfsRoot, "cache_file", cfg.CacheFile,
				"zk_security", cfg.ZKSecurity.String(), "hostname", cfg.Hostname, "labels", watchlist.FormatLabels(cfg.Labels))
			cfg.OnReady = func() { releaseStartupPages(cfg.Logger) }
			return run(ctx, cfg)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)

	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&o.zk, zkopts.FlagZK, zkopts.DefaultServers, "ZooKeeper servers, comma separated ["+zkopts.EnvZK+"]")
	f.StringVar(&o.path, zkopts.FlagPath, zkopts.DefaultPath, "root znode ["+zkopts.EnvPath+"]")
	o.web.register(f)
	f.StringVar(&o.cacheFile, "cache-file", "", "last good payload, used when ZooKeeper is unreachable at start")
	f.DurationVar(&o.sessionTimeout, "session-timeout", zkopts.DefaultAgentSessionTimeout, "ZooKeeper session timeout")
	o.zkSecurity.Register(f)
	f.StringVar(&o.procfs, "path.procfs", agent.DefaultProcfs, "procfs mount point")
	f.BoolVar(&o.collectPSS, "collect.pss", false, "read the PSS of matched processes from smaps_rollup (procwatch_glob_proportional_memory_bytes); costly for large processes")
	f.BoolVar(&o.processEvents, "collect.process-events", true, "follow the kernel's process events, so that every start and exit of a matched process is counted between scans too (Linux, host's namespaces; =false samples /proc only)")
	f.StringVar(&o.hostname, "hostname", "", "this agent's name for targeting: groups match it with their hosts globs (default: the OS hostname) ["+envHostname+"]")
	f.StringArrayVar(&o.labels, "label", nil, "KEY=VALUE identity label for targeting, repeatable, comma separated in ["+envLabels+"]")
	f.DurationVar(&o.memberInterval, "member-update-interval", agent.DefaultMemberUpdateInterval, "least time between rewrites of this agent's member info for a changed set of missing globs")
	f.DurationVar(&o.scanInterval, "scan-interval", agent.DefaultScanInterval, "period of scans between scrapes and list changes (0 disables)")
	f.StringVar(&o.logLevel, "log.level", "info", "log level: "+strings.Join(promslog.LevelFlagOptions, ", "))
	f.StringVar(&o.logFormat, "log.format", "logfmt", "log format: "+strings.Join(promslog.FormatFlagOptions, ", "))
	return cmd
}

// config checks the options and builds the agent's configuration.
func (o *options) config(stderr io.Writer) (agent.Config, error) {
	level, format := promslog.NewLevel(), promslog.NewFormat()
	if err := level.Set(o.logLevel); err != nil {
		return agent.Config{}, fmt.Errorf("--log.level: %w", err)
	}
	if err := format.Set(o.logFormat); err != nil {
		return agent.Config{}, fmt.Errorf("--log.format: %w", err)
	}
	var servers []string
	for s := range strings.SplitSeq(o.zk, ",") {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	if len(servers) == 0 {
		return agent.Config{}, errors.New("--zk: no ZooKeeper server given")
	}
	if err := zkpath.ValidateRoot(o.path); err != nil {
		return agent.Config{}, fmt.Errorf("--path: %w", err)
	}
	if err := o.web.check(); err != nil {
		return agent.Config{}, err
	}
	if o.sessionTimeout <= 0 {
		return agent.Config{}, fmt.Errorf("--session-timeout %s: must be positive", o.sessionTimeout)
	}
	if o.scanInterval < 0 {
		return agent.Config{}, fmt.Errorf("--scan-interval %s: must not be negative", o.scanInterval)
	}
	var kvs []string
	for _, l := range o.labels {
		kvs = append(kvs, watchlist.SplitLabels(l)...)
	}
	labels, err := watchlist.ParseLabels(kvs)
	if err != nil {
		return agent.Config{}, fmt.Errorf("--label: %w", err)
	}
	if strings.ContainsFunc(o.hostname, unicode.IsSpace) {
		return agent.Config{}, fmt.Errorf("--hostname %q: must not hold spaces", o.hostname)
	}
	if o.memberInterval <= 0 {
		return agent.Config{}, fmt.Errorf("--member-update-interval %s: must be positive", o.memberInterval)
	}
	// Read now, so that a missing or world-readable file is a usage error
	// (exit 2) before anything starts.
	sec, err := o.zkSecurity.Load()
	if err != nil {
		return agent.Config{}, err
	}
	return agent.Config{
		Servers:          servers,
		ZKSecurity:       sec,
		Path:             o.path,
		ListenAddresses:  *o.web.WebListenAddresses,
		WebSystemdSocket: *o.web.WebSystemdSocket,
		WebConfigFile:    *o.web.WebConfigFile,
		CacheFile:        o.cacheFile,
		SessionTimeout:   o.sessionTimeout,
		ProcfsRoot:       o.procfs,
		CollectPSS:       o.collectPSS,
		ProcessEvents:    o.processEvents,
		ScanInterval:     o.scanInterval,
		Hostname:         o.hostname,
		Labels:           labels,
		MemberInterval:   o.memberInterval,
		Version:          buildinfo.Version(version),
		Revision:         buildinfo.Revision(revision),
		Logger:           promslog.New(&promslog.Config{Level: level, Format: format, Writer: stderr}),
	}, nil
}
