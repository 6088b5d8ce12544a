package main

import (
	"github.com/spf13/cobra"
)

type completionOptions struct {
	*globalOptions
}

func newCompletionCmd(g *globalOptions) *cobra.Command {
	o := &completionOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `Print the shell completion script for bash, zsh or fish.

  bash:  source <(procctl completion bash)
  zsh:   procctl completion zsh > "${fpath[1]}/_procctl"
  fish:  procctl completion fish > ~/.config/fish/completions/procctl.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      usageArgs(cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Root(), args[0])
		},
	}
}

func (o *completionOptions) run(root *cobra.Command, shell string) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(o.stdout, true)
	case "zsh":
		return root.GenZshCompletion(o.stdout)
	default:
		return root.GenFishCompletion(o.stdout, true)
	}
}
