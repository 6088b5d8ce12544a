package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.opentelemetry.io/otel/trace"

	"github.com/procwatch/procwatch/internal/buildinfo"
	"github.com/procwatch/procwatch/internal/metrics"
	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/procwatch/procwatch/internal/telemetry"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// Defaults of the agent's settings, shared with the command's flags.
const (
	DefaultListenAddress = ":9256"
	DefaultProcfs        = "/proc"
	// DefaultScanInterval is how often the agent scans on its own, between
	// scrapes and list changes. It is what catches short-lived processes'
	// starts, exits and CPU when scrapes are far apart; a scan of a few
	// thousand processes costs milliseconds.
	DefaultScanInterval = 5 * time.Second
	// DefaultMemberUpdateInterval is the least time between rewrites of the
	// member info for a changed set of missing globs: a fleet-wide outage
	// costs ZooKeeper one small write per agent per interval.
	DefaultMemberUpdateInterval = 10 * time.Second
)

// shutdownTimeout bounds each step of a graceful shutdown (HTTP drain, span
// flush), so that SIGTERM ends the process well within the 30 s systemd
// and Kubernetes grant before SIGKILL.
const shutdownTimeout = 5 * time.Second

// Config is everything Run needs; cmd/procwatch fills it from flags.
type Config struct {
	// Servers are the ZooKeeper servers, host:port.
	Servers []string
	// Path is the root znode of the shared watch list.
	Path string
	// ListenAddresses, WebSystemdSocket and WebConfigFile configure
	// exporter-toolkit's web server (TLS and basic auth come from the web
	// config file); with WebSystemdSocket it serves the sockets systemd
	// passed instead of ListenAddresses.
	ListenAddresses  []string
	WebSystemdSocket bool
	WebConfigFile    string
	// Listener, when set, is served instead of ListenAddresses. Tests use
	// it to serve on a port they already hold.
	Listener net.Listener
	// CacheFile keeps the last good watch list, for starts while ZooKeeper
	// is unreachable; empty disables it.
	CacheFile string
	// SessionTimeout is the ZooKeeper session timeout.
	SessionTimeout time.Duration
	// ZKSecurity are the agent's ZooKeeper credentials and TLS settings.
	// With credentials, the agent's listener node is readable by everyone
	// and writable by the agent's identity only.
	ZKSecurity zkopts.Security
	// Hostname and Labels are the agent's identity for targeting: the
	// groups of the list whose selector they satisfy add their globs to
	// the fleet-wide ones (watchlist.Resolve). An empty Hostname is the
	// OS hostname.
	Hostname string
	Labels   map[string]string
	// MemberInterval is the least time between rewrites of the member
	// info when only the missing globs changed (a new version is published
	// at once); zero is DefaultMemberUpdateInterval.
	MemberInterval time.Duration
	// ProcfsRoot is the procfs mount to read processes from.
	ProcfsRoot string
	// CollectPSS makes the agent read the PSS of matched processes and
	// export procwatch_glob_proportional_memory_bytes (see
	// monitor.WithPSS for what it costs).
	CollectPSS bool
	// ProcessEvents makes the agent follow the kernel's process events
	// (internal/procevents), so that every exec into a matching process
	// and every exit of one is counted, between scans too. Where the
	// subscription cannot be had (another OS, not the host's namespaces,
	// no permission) the agent samples, as without it, and logs why once.
	ProcessEvents bool
	// ScanInterval is the period of the agent's own scans; zero or less
	// leaves scanning to list changes and scrapes.
	ScanInterval time.Duration
	// Version and Revision label procwatch_build_info and the listener
	// node; empty means what the Go toolchain stamped into the binary.
	Version, Revision string
	// Logger receives the agent's logs; nil discards them.
	Logger *slog.Logger
	// OnReady, when set, is called once, the first time a list is in
	// force (when /readyz turns 200): start-up is over then, which is
	// when cmd/procwatch gives back the pages start-up touched.
	OnReady func()
	// TracerProvider, when set, replaces the provider built from the OTEL_*
	// environment variables (tests pass one with an in-memory exporter);
	// the caller then owns its shutdown.
	TracerProvider trace.TracerProvider
	// storeOptions are appended to the Store's options, for tests that
	// need, say, a short staleness bound.
	storeOptions []zkstate.Option
}

// Run runs the agent until ctx ends, then shuts down gracefully: it closes
// the Store (removing this instance's listener node), the ZooKeeper session
// and the HTTP server, and flushes pending spans. It returns an error only
// for a setup failure or a web server that could not serve; a ZooKeeper that
// is unreachable is not an error, the agent waits for it.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	// Records written in a span carry its ids, so a trace and its logs join.
	cfg.Logger = slog.New(telemetry.NewLogHandler(cfg.Logger.Handler()))
	log := cfg.Logger

	tp := cfg.TracerProvider
	if tp == nil {
		p, shutdown, err := telemetry.SetupTracing(ctx, telemetry.TracingConfig{Identity: cfg.identity(), Logger: log})
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				log.Warn("flushing spans failed", "err", err)
			}
		}()
		tp = p
	}

	src, err := monitor.NewDefaultSource(cfg.ProcfsRoot, monitor.WithPSS(cfg.CollectPSS))
	if err != nil {
		return fmt.Errorf("procfs at %s: %w", cfg.ProcfsRoot, err)
	}
	sess, err := zkstate.NewSession(cfg.Servers, append(cfg.ZKSecurity.SessionOptions(),
		zkstate.WithSessionTimeout(cfg.SessionTimeout),
		zkstate.WithSessionLogger(log.With("component", "zookeeper")))...)
	if err != nil {
		return fmt.Errorf("zookeeper %v: %w", cfg.Servers, err)
	}
	defer sess.Close()

	a := &agent{
		members:        newMemberFeed(),
		appliedVersion: -1,
		cfg:            cfg,
		log:            log,
		sess:           sess,
		tp:             tp,
		tracer:         tp.Tracer(tracerName),
	}
	a.mon = monitor.New(src, monitor.WithTracerProvider(tp))
	reg, err := metrics.NewRegistry(metrics.New(a.mon,
		metrics.WithState(a.state),
		metrics.WithProcessEvents(a.eventsState),
		metrics.WithBuildInfo(cfg.Version, cfg.Revision),
		metrics.WithLogger(log)))
	if err != nil {
		return err
	}
	stopPush, err := a.pushMetrics(ctx, reg)
	if err != nil {
		return err
	}
	defer stopPush()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	a.openEvents(runCtx)
	defer a.closeEvents()
	a.loadCache(runCtx)
	if !a.ready.Load() {
		// Export something meaningful (processes_scanned, no globs) before
		// any list arrives.
		if _, err := a.mon.Scan(runCtx); err != nil {
			log.Warn("first scan failed", "procfs", cfg.ProcfsRoot, "err", err)
		}
	}

	srv := &http.Server{
		Handler:           a.handler(reg),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.serve(srv) }()

	var wg sync.WaitGroup
	wg.Go(func() { a.join(runCtx) })
	if cfg.ScanInterval > 0 {
		wg.Go(func() { a.scanLoop(runCtx) })
	}
	if a.events.reader != nil {
		wg.Go(func() { a.followEvents(runCtx) })
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", context.Cause(ctx))
	case err := <-serveErr:
		runErr = fmt.Errorf("web server: %w", err)
		serveErr = nil
	}
	stop()
	wg.Wait()
	a.leave()
	sess.Close()
	if serveErr != nil {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("web server shutdown", "err", err)
			_ = srv.Close()
		}
		cancel()
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("web server: %w", err)
		}
	}
	return runErr
}

func (c *Config) defaults() error {
	if len(c.Servers) == 0 {
		return errors.New("no ZooKeeper servers given")
	}
	if c.Path == "" {
		c.Path = zkopts.DefaultPath
	}
	if c.Listener == nil && len(c.ListenAddresses) == 0 {
		return errors.New("no web listen address given")
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = zkstate.DefaultSessionTimeout
	}
	if c.ProcfsRoot == "" {
		c.ProcfsRoot = DefaultProcfs
	}
	if c.MemberInterval <= 0 {
		c.MemberInterval = DefaultMemberUpdateInterval
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("no --hostname given and the OS hostname is unknown: %w", err)
		}
		c.Hostname = h
	}
	for k, v := range c.Labels {
		if err := watchlist.ValidateLabel(k, v); err != nil {
			return err
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Version == "" {
		c.Version = buildinfo.Version("")
	}
	if c.Revision == "" {
		c.Revision = buildinfo.Revision("")
	}
	return nil
}

// serve runs exporter-toolkit's server, which applies the web config file
// (TLS, basic auth) on every listener.
func (a *agent) serve(srv *http.Server) error {
	webConfig := a.cfg.WebConfigFile
	systemd := a.cfg.WebSystemdSocket
	flags := &web.FlagConfig{
		WebListenAddresses: &a.cfg.ListenAddresses,
		WebSystemdSocket:   &systemd,
		WebConfigFile:      &webConfig,
	}
	if a.cfg.Listener != nil {
		return web.Serve(a.cfg.Listener, srv, flags, a.log)
	}
	return web.ListenAndServe(srv, flags, a.log)
}

// agent is the state of one Run.
type agent struct {
	cfg    Config
	log    *slog.Logger
	sess   *zkstate.Session
	mon    *monitor.Monitor
	tp     trace.TracerProvider
	tracer trace.Tracer

	// ready is set once a list is in force, from the cache or ZooKeeper.
	ready atomic.Bool
	// changes counts the changes of the list received, by kind
	// (zkstate.Added, Modified, Removed, less Added).
	changes [3]atomic.Uint64

	// applyMu serializes putting lists in force: the snapshot taken at
	// join, the events that follow it, and the cache at start.
	applyMu      sync.Mutex
	applied      watchlist.Document
	inForce      watchlist.InForce // applied, resolved for this agent
	hasApplied   bool
	cachedVer    int32 // version last written to (or read from) the cache file
	hasCachedVer bool

	mu        sync.Mutex // guards the fields below, read by scrapes
	store     *zkstate.Store[watchlist.Document]
	cancelSub func()
	fromCache *cacheFile // the list read from the cache file at start
	groups    []string   // the groups applying to this agent, for scrapes
	skipped   int        // groups of the list in force that could not be evaluated
	// appliedVersion and globsInForce are the version and size of the list
	// in force, for the member info; appliedVersion is -1 before any.
	appliedVersion int32
	globsInForce   int

	members *memberFeed
	events  processEvents
}

// scanLoop scans every ScanInterval until ctx ends.
func (a *agent) scanLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.ScanInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := a.mon.Scan(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			// Logged when it starts failing and when it recovers, not at
			// every tick; procwatch_scan_failures_total counts each one.
			a.log.Error("scanning processes failed", "procfs", a.cfg.ProcfsRoot, "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("scanning processes works again")
			failing = false
		}
	}
}
