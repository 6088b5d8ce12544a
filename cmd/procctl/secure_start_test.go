package main

import (
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestSecureAgentStartedWhileZooKeeperDown: an agent with credentials that
// starts while ZooKeeper is unreachable must still log in once it is back,
// and register under the tree's ACL.
func TestSecureAgentStartedWhileZooKeeperDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := writeSecrets(t)
	editor := f.env("/procwatch").with(zkopts.EnvAuthFile, s.editor)
	mustRun(t, editor, "init", "--secure", "--agent-digest", zkstate.DigestID("agent", agentPassword), "sshd")
	proxy := zktest.NewProxy(t, f.servers)
	proxy.Cut()
	a := runAgent(t, agent.Config{
		Servers:        []string{proxy.Addr()},
		SessionTimeout: 2 * time.Second,
		ZKSecurity:     mustLoad(t, zkopts.Flags{AuthFile: s.agent}),
	})
	a.log.expect(t, "ZooKeeper is not reachable yet", 20*time.Second)
	proxy.Restore()
	a.waitMetric(t, `procwatch_glob_processes{glob="sshd"}`, 20*time.Second)
	f.listeners(1, 20*time.Second)
}
