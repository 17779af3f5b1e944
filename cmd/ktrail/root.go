package main

import (
	"io"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree with its streams passed in, so tests
// can run it in-process.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "ktrail",
		Short: "Investigate Kubernetes API-server audit logs",
		Long: `ktrail reads audit.k8s.io events from files, directories (rotated and gzipped
logs included) and stdin, indexes them in little memory, and answers filter
expressions over who did what, where, and with what outcome.

Try it on the embedded demo:  ktrail demo
Query a log:                  ktrail query -e 'verb == "delete" && resource == "secrets"' audit.log`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newQueryCmd(stdin, stdout, stderr), newDemoCmd(stdin, stdout, stderr), newGenCmd(stdout))
	return root
}
