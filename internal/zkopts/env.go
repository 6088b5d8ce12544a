package zkopts

import (
	"fmt"
	"time"
)

// The settings procwatch and procctl share, and their defaults: both
// programs take them from here, so that an operator's procctl and the
// fleet's agents find the same ZooKeeper and root without being told.
const (
	FlagZK   = "zk"
	FlagPath = "path"

	EnvZK   = "PROCWATCH_ZK"
	EnvPath = "PROCWATCH_PATH"

	// DefaultServers is a ZooKeeper on this host's standard client port.
	DefaultServers = "127.0.0.1:2181"
	// DefaultPath is the root znode of the shared state.
	DefaultPath = "/procwatch"
	// DefaultAgentSessionTimeout is the agent's session timeout: how long
	// ZooKeeper may be away before the agent counts its session lost, and
	// how long a dead agent stays listed as a member.
	DefaultAgentSessionTimeout = 10 * time.Second
	// DefaultCLISessionTimeout is procctl's, shorter: it is how long the
	// write lock of a procctl that died blocks the next writer.
	DefaultCLISessionTimeout = 5 * time.Second
)

// EnvVar pairs a flag with the environment variable that stands in for it
// when the flag is not given.
type EnvVar struct{ Flag, Env string }

// SecurityEnvVars pairs each security flag (see Flags) with its variable.
var SecurityEnvVars = []EnvVar{
	{FlagAuthFile, EnvAuthFile},
	{FlagTLSCA, EnvTLSCA},
	{FlagTLSCert, EnvTLSCert},
	{FlagTLSKey, EnvTLSKey},
	{FlagTLSServerName, EnvTLSServerName},
}

// SharedEnvVars are the variables both programs read: --zk, --path and the
// security flags. A program with settings of its own appends them and
// passes the whole list to ApplyEnv.
var SharedEnvVars = append([]EnvVar{{FlagZK, EnvZK}, {FlagPath, EnvPath}}, SecurityEnvVars...)

// Setter is what ApplyEnv needs of a flag set; *pflag.FlagSet (cobra) and
// the standard library's *flag.FlagSet both have it.
type Setter interface {
	Set(name, value string) error
}

// ApplyEnv gives each flag of vars that the command line did not set
// (changed reports that) the value of its environment variable, through
// fs.Set, so the value is parsed and checked as the flag's own would be.
// The precedence is flag > environment > default, the same in both
// programs because both call this.
//
// An empty variable counts as unset: `PROCWATCH_ZK=` in an environment
// file, or an empty expansion in a unit or a DaemonSet, leaves the default
// in force rather than turning it into an empty setting.
//
// The error names the variable and its value (never a secret: the
// variables name files, not passwords).
func ApplyEnv(fs Setter, changed func(flag string) bool, lookupEnv func(string) (string, bool), vars []EnvVar) error {
	for _, ev := range vars {
		if changed(ev.Flag) {
			continue
		}
		v, ok := lookupEnv(ev.Env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(ev.Flag, v); err != nil {
			return fmt.Errorf("%s=%q: %w", ev.Env, v, err)
		}
	}
	return nil
}
