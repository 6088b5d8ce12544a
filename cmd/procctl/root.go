package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/buildinfo"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkpath"
)

// defaultTimeout bounds a command's connecting and its operation; the
// defaults shared with the agent are in zkopts.
const defaultTimeout = 10 * time.Second

// globalOptions are the persistent flags and the process's surroundings.
// Every command's options struct points at it instead of reading globals, so
// that tests run many commands in one process with their own streams and
// environment.
type globalOptions struct {
	zk             string
	path           string
	timeout        time.Duration
	sessionTimeout time.Duration
	output         string
	// zkFlags name the credentials and TLS files; zkSecurity is what
	// resolve loaded from them.
	zkFlags    zkopts.Flags
	zkSecurity zkopts.Security

	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)

	// printer is chosen by -o once the flags are parsed.
	printer printer
}

// newRootCmd builds the whole command tree. lookupEnv is os.LookupEnv in
// main and a map in tests.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	return newRoot(&globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: lookupEnv})
}

// newRoot builds the command tree around g, which the commands share.
func newRoot(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "procctl",
		Short: "Operate procwatch's shared glob list in ZooKeeper",
		Long: `procctl changes the list of process globs that every procwatch agent
watches. The list lives in ZooKeeper under --path; every write takes the
list's lock and compares versions, so concurrent operators never lose each
other's changes, and every agent sees the change within a second.

Credentials come from a file (--zk-auth-file, one line user:password), never
from a flag; --zk-tls-* connect to ZooKeeper's secureClientPort with TLS.
See docs/SECURITY.md.

Exit codes: 0 success; 1 operational failure (ZooKeeper unreachable, a
conflict, a timeout, missing or existing state, permission denied); 2 bad
usage or invalid input, including unreadable or world-readable credential
files (nothing was written).`,
		Example: `  procctl init 'sshd' 'nginx*'
  procctl globs add 'postgres*' '/usr/sbin/*' 'cmdline:java *kafka*'
  procctl globs list -o json
  PROCWATCH_ZK=zk1:2181,zk2:2181 procctl watch
  PROCWATCH_ZK_AUTH_FILE=~/.procwatch-editor procctl globs add 'redis*'`,
		Version:       buildinfo.Line(buildinfo.Version(version), buildinfo.Revision(revision)),
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRunE,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Our own completion command rejects unknown shells with exit 2;
		// cobra's default would print help and exit 0.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.resolve(cmd)
		},
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmdPath: c.CommandPath(), err: err}
	})

	f := root.PersistentFlags()
	f.StringVar(&g.zk, zkopts.FlagZK, zkopts.DefaultServers, "ZooKeeper servers, comma separated ["+zkopts.EnvZK+"]")
	f.StringVar(&g.path, zkopts.FlagPath, zkopts.DefaultPath, "root znode of the procwatch state ["+zkopts.EnvPath+"]")
	f.DurationVar(&g.timeout, "timeout", defaultTimeout, "bound on connecting and on the operation (not on watch's watching, nor on edit's editor)")
	f.DurationVar(&g.sessionTimeout, "session-timeout", zkopts.DefaultCLISessionTimeout, "ZooKeeper session timeout: how long the write lock of a procctl that died outlives it")
	f.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	g.zkFlags.Register(f)
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		newGlobsCmd(g),
		newGroupsCmd(g),
		newGetCmd(g),
		newEditCmd(g),
		newWatchCmd(g),
		newMembersCmd(g),
		newStatusCmd(g),
		newInitCmd(g),
		newCompletionCmd(g),
	)
	return root
}

// envVars are the environment variables procctl reads, each standing in for
// its flag when the flag is not given.
var envVars = zkopts.SharedEnvVars

// resolve applies the precedence flag > environment > default (the same
// function as the agent's), checks the global flags and picks the printer.
func (g *globalOptions) resolve(cmd *cobra.Command) error {
	bad := func(format string, args ...any) error {
		return &usageError{cmdPath: cmd.CommandPath(), err: fmt.Errorf(format, args...)}
	}
	if err := zkopts.ApplyEnv(cmd.Flags(), cmd.Flags().Changed, g.lookupEnv, envVars); err != nil {
		return bad("%v", err)
	}
	if strings.Trim(g.zk, ", ") == "" {
		return bad("--zk is empty: give ZooKeeper servers as host:port, comma separated")
	}
	if err := zkpath.ValidateRoot(g.path); err != nil {
		return bad("--path: %v", err)
	}
	if g.timeout <= 0 {
		return bad("--timeout must be positive, got %s", g.timeout)
	}
	if g.sessionTimeout <= 0 {
		return bad("--session-timeout must be positive, got %s", g.sessionTimeout)
	}
	p, err := newPrinter(g.output, g.stdout)
	if err != nil {
		return bad("%v", err)
	}
	g.printer = p
	// Read before connecting: a missing or world-readable file is the
	// operator's to fix (exit 2), and nothing has been sent yet.
	sec, err := g.zkFlags.Load()
	if err != nil {
		return &inputError{err: err}
	}
	g.zkSecurity = sec
	return nil
}

// groupRunE serves commands that only group others (procctl, procctl
// globs): without arguments they print their help; with an unknown
// subcommand they fail with exit 2, where cobra alone would print help and
// exit 0.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	// cobra applies its default distance only on its own error path.
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return &usageError{cmdPath: cmd.CommandPath(), err: errors.New(msg)}
}

// usageArgs turns cobra's argument-count errors into usage errors (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &usageError{cmdPath: cmd.CommandPath(), err: err}
		}
		return nil
	}
}
