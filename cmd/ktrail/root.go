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
logs included) and stdin, indexes them in little memory, and shows them in an
interactive view: a timeline, the event list, each event's JSON, and filter
expressions over who did what, where, and with what outcome.

Open the embedded demo:   ktrail   (or ktrail demo)
Open a log:               ktrail audit.log
Query a log headless:     ktrail query -e 'verb == "delete" && resource == "secrets"' audit.log`,
		Example: `  ktrail                                   # the embedded demo (no input given, stdin is a terminal)
  ktrail /var/log/kubernetes/audit.log     # a file, a directory, or - for stdin
  ktrail -f -e 'code >= 400' /var/log/kubernetes/
  kubectl logs -f -n kube-system kube-apiserver-x | ktrail
  ktrail --listen :8443 --tls-self-signed --token-file tokens   # live from the audit webhook`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var t tuiFlags
	addTUIFlags(root, &t)
	addServerFlags(root, &t.srv, true)
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 && t.srv.listen == "" && (stdin == nil || isTerminal(stdin)) {
			t.demo = true
		}
		return runTUI(cmd.Context(), t, args, stdin, stdout, stderr)
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newQueryCmd(stdin, stdout, stderr), newDemoCmd(stdin, stdout, stderr), newGenCmd(stdout),
		newServeCmd(stdout, stderr), newWebhookConfigCmd(stdout), newReportCmd(stdin, stdout, stderr),
		newHistoryCmd(stdin, stdout, stderr))
	return root
}
