package zkopts

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestApplyEnv: a flag given on the command line wins over its variable,
// the variable wins over the default, and an empty variable leaves the
// default in force.
func TestApplyEnv(t *testing.T) {
	type settings struct {
		ZK, Path string
		Timeout  time.Duration
	}
	defaults := settings{ZK: DefaultServers, Path: DefaultPath, Timeout: time.Second}
	vars := append([]EnvVar{{"timeout", "PROCWATCH_TEST_TIMEOUT"}}, SharedEnvVars...)
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    settings
		wantErr string
	}{
		{name: "neither", want: defaults},
		{name: "flag", args: []string{"-zk", "flag:1", "-path", "/flag"},
			want: settings{ZK: "flag:1", Path: "/flag", Timeout: time.Second}},
		{name: "environment", env: map[string]string{EnvZK: "env:1", EnvPath: "/env", "PROCWATCH_TEST_TIMEOUT": "3s"},
			want: settings{ZK: "env:1", Path: "/env", Timeout: 3 * time.Second}},
		{name: "both: the flag wins", args: []string{"-zk", "flag:1"}, env: map[string]string{EnvZK: "env:1", EnvPath: "/env"},
			want: settings{ZK: "flag:1", Path: "/env", Timeout: time.Second}},
		{name: "a flag given as its default still wins", args: []string{"-path", DefaultPath}, env: map[string]string{EnvPath: "/env"},
			want: defaults},
		{name: "empty variables keep the defaults", env: map[string]string{EnvZK: "", EnvPath: "", "PROCWATCH_TEST_TIMEOUT": ""},
			want: defaults},
		{name: "a bad value names its variable", env: map[string]string{"PROCWATCH_TEST_TIMEOUT": "soon"},
			wantErr: `PROCWATCH_TEST_TIMEOUT="soon": `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got settings
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.StringVar(&got.ZK, FlagZK, DefaultServers, "")
			fs.StringVar(&got.Path, FlagPath, DefaultPath, "")
			fs.DurationVar(&got.Timeout, "timeout", time.Second, "")
			var sec Flags
			sec.Register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			given := map[string]bool{}
			fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			err := ApplyEnv(fs, func(name string) bool { return given[name] }, lookup, vars)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ApplyEnv = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}
