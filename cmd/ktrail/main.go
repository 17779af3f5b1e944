// Command ktrail investigates Kubernetes API-server audit logs.
package main

import (
	"errors"
	"fmt"
	"os"

	"ktrail/audit"
)

// exitError carries a process exit code out of a command.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Exit codes, documented in the README.
const (
	exitMatched = 0 // something matched
	exitNone    = 1 // nothing matched
	exitUsage   = 2 // usage or fatal error
	exitSkipped = 3 // something matched but some input lines were skipped
)

func main() {
	cmd := newRootCmd(os.Stdin, os.Stdout, os.Stderr)
	err := cmd.Execute()
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "ktrail:", audit.Sanitize(err.Error()))
		os.Exit(exitUsage)
	}
}
