package main

import (
	"io"
	"strings"
	"testing"

	"github.com/procwatch/procwatch/internal/zkopts"
)

// The variables the tests set, by the names the programs read.
const (
	envZK   = zkopts.EnvZK
	envPath = zkopts.EnvPath
)

// TestGlobalFlagsFromEnvironment checks the precedence flag > environment >
// default on the global settings as resolved for a command, without a
// server: an empty variable keeps the default, as it does for the agent.
func TestGlobalFlagsFromEnvironment(t *testing.T) {
	t.Parallel()
	type got struct{ zk, path, authFile string }
	for _, tc := range []struct {
		name string
		args []string
		env  envMap
		want got
	}{
		{name: "defaults", want: got{zk: "127.0.0.1:2181", path: "/procwatch"}},
		{name: "environment", env: envMap{envZK: "env:1", envPath: "/env", zkopts.EnvAuthFile: "/env/auth"},
			want: got{zk: "env:1", path: "/env", authFile: "/env/auth"}},
		{name: "flags win", args: []string{"--zk", "flag:1", "--path", "/flag", "--zk-auth-file", "/flag/auth"},
			env:  envMap{envZK: "env:1", envPath: "/env", zkopts.EnvAuthFile: "/env/auth"},
			want: got{zk: "flag:1", path: "/flag", authFile: "/flag/auth"}},
		{name: "empty variables keep the defaults", env: envMap{envZK: "", envPath: "", zkopts.EnvAuthFile: ""},
			want: got{zk: "127.0.0.1:2181", path: "/procwatch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &globalOptions{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, lookupEnv: tc.env.lookup}
			root := newRoot(g)
			cmd, rest, err := root.Find([]string{"get"})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.ParseFlags(append(rest, tc.args...)); err != nil {
				t.Fatal(err)
			}
			err = g.resolve(cmd)
			// The credentials file does not exist: Load, after the
			// precedence, refuses it; the settings are what counts here.
			if tc.want.authFile == "" && err != nil {
				t.Fatal(err)
			}
			if g := (got{zk: g.zk, path: g.path, authFile: g.zkFlags.AuthFile}); g != tc.want {
				t.Errorf("resolved %+v, want %+v", g, tc.want)
			}
		})
	}
}
