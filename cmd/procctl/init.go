package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
)

type initOptions struct {
	*globalOptions
	globs []string

	secure        bool
	agentAuthFile string
	agentDigest   string
}

func newInitCmd(g *globalOptions) *cobra.Command {
	o := &initOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "init [GLOB...]",
		Short: "Create the procwatch state with an initial glob list",
		Long: `Create the procwatch state under --path (the root, the payload holding
{"globs": [...]}, and the helper nodes), with the globs given, possibly none.

If the state already exists, init refuses (exit 1) and changes nothing:
change an existing list with 'procctl globs set' or 'procctl edit'. There is
no --force; delete the root with zkCli.sh if you really mean to start over.

With --secure the tree gets ACLs (digest authentication): everyone may read
it; only the editor, the identity of --zk-auth-file running init, may change
the payload, the lock and the write receipts; agents, the identity given by
--agent-auth-file or --agent-digest, may add and remove their own nodes
under listeners/. Nothing is writable by the world. The agents' password is
only used here to compute their digest identity; it is never sent.

` + globsHelp,
		Example: `  procctl init sshd 'nginx*'
  procctl init --secure --zk-auth-file ~/.procwatch-editor \
      --agent-auth-file /etc/procwatch/zk-auth sshd
  procctl init --secure --zk-auth-file ~/.procwatch-editor \
      --agent-digest 'agent:sWflB8tKykqDeLLI6/SG4K3/T8k=' sshd`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globs = args
			return o.run(cmd.Context(), cmd.CommandPath())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.secure, "secure", false, "create the tree with ACLs: writable only by the editor (--zk-auth-file), listeners/ by the agents")
	f.StringVar(&o.agentAuthFile, "agent-auth-file", "", "with --secure: the agents' credentials file, from which their digest identity is computed")
	f.StringVar(&o.agentDigest, "agent-digest", "", "with --secure: the agents' digest identity, user:base64(sha1(user:password))")
	return cmd
}

// secureACLs checks the --secure flags and returns the ACLs of the tree,
// with the editor and agent users for the report. Every failure is a usage
// error: nothing has been sent.
func (o *initOptions) secureACLs(cmdPath string) (*zkstate.ACLs, *securedBy, error) {
	bad := func(format string, args ...any) error {
		return &usageError{cmdPath: cmdPath, err: fmt.Errorf(format, args...)}
	}
	if !o.secure {
		if o.agentAuthFile != "" || o.agentDigest != "" {
			return nil, nil, bad("--agent-auth-file and --agent-digest only apply with --secure")
		}
		return nil, nil, nil
	}
	editor := o.zkSecurity.Auth
	if editor == nil {
		return nil, nil, bad("--secure makes the tree writable only by the identity that creates it: give the editor's credentials with --zk-auth-file or %s", zkopts.EnvAuthFile)
	}
	var agentID, agentUser string
	switch {
	case o.agentAuthFile != "" && o.agentDigest != "":
		return nil, nil, bad("give the agents' identity once: --agent-auth-file or --agent-digest, not both")
	case o.agentAuthFile != "":
		c, err := zkopts.ReadAuthFile(o.agentAuthFile)
		if err != nil {
			return nil, nil, &inputError{err: fmt.Errorf("--agent-auth-file: %w", err)}
		}
		agentID, agentUser = c.DigestID(), c.User
	case o.agentDigest != "":
		u, err := zkopts.ParseDigestID(o.agentDigest)
		if err != nil {
			return nil, nil, bad("--agent-digest: %v", err)
		}
		agentID, agentUser = o.agentDigest, u
	default:
		return nil, nil, bad("--secure needs the agents' identity, to let them register under listeners/: --agent-auth-file FILE or --agent-digest USER:DIGEST")
	}
	if agentID == editor.DigestID() {
		return nil, nil, bad("the agents' identity is the editor's (digest user %q): every agent could then change the glob list; give the agents credentials of their own", editor.User)
	}
	acls := zkstate.SecureACLs(editor.DigestID(), agentID)
	return &acls, &securedBy{Editor: editor.String(), Agents: "digest:" + agentUser}, nil
}

func (o *initOptions) run(ctx context.Context, cmdPath string) error {
	globs := watchlist.Fold(o.globs)
	if err := checkInput(watchlist.Document{Globs: globs}); err != nil {
		return err
	}
	acls, secured, err := o.secureACLs(cmdPath)
	if err != nil {
		return err
	}
	ctx, cancel := o.opContext(ctx)
	defer cancel()
	sess, err := o.connect(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	opts := []zkstate.Option{zkstate.WithoutMembership(), zkstate.WithLockTimeout(o.lockTimeout(ctx))}
	if acls != nil {
		opts = append(opts, zkstate.WithACLs(*acls))
	}
	st, err := zkstate.OpenOrCreate(ctx, sess, o.path, watchlist.Document{Globs: globs}, opts...)
	if err != nil {
		return o.zkErr(err)
	}
	defer st.Close()
	snap, err := st.ConsistentRead(ctx)
	if !st.Created() {
		// The state was there (perhaps made by another init a moment
		// ago): what is stored is theirs, and init must not claim it.
		detail := plural(len(snap.Value.Globs), "glob")
		if errors.Is(err, zkstate.ErrInvalidPayload) {
			detail = "a payload that is not a procwatch document"
		} else if err != nil {
			return o.zkErr(err)
		}
		return &stateExistsError{root: o.path, version: snap.Version, detail: detail}
	}
	if err != nil {
		return o.zkErr(err)
	}
	return o.printer.written(writeResult{verb: "init", root: o.path, Version: snap.Version, Changed: true,
		Globs: globs, Added: globs, Secured: secured})
}
