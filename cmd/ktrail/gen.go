package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"ktrail/audit/auditgen"
)

func newGenCmd(stdout io.Writer) *cobra.Command {
	var (
		seed   int64
		size   string
		events int
		out    string
		start  string
		rate   float64
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Write realistic synthetic audit events (deterministic by seed)",
		Example: `  ktrail gen --events 10000 > audit.log
  ktrail gen --size 1GB --out /tmp/big.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := auditgen.Config{Seed: seed, Rate: rate}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return fmt.Errorf("gen: --start: %v", err)
				}
				cfg.Start = t
			}
			w := stdout
			var f *os.File
			if out != "" && out != "-" {
				var err error
				if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
					return fmt.Errorf("gen: %v", err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 1<<20)
			g := auditgen.New(cfg)
			var err error
			switch {
			case size != "":
				n, perr := parseSize(size)
				if perr != nil {
					return perr
				}
				_, err = g.WriteBytes(bw, n)
			default:
				_, err = g.WriteN(bw, events)
			}
			if err == nil {
				err = bw.Flush()
			}
			if err == nil && f != nil {
				err = f.Close()
			}
			return err
		},
	}
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed; the same seed gives the same bytes")
	cmd.Flags().StringVar(&size, "size", "", "stop after this many bytes (e.g. 100MB, 1GB)")
	cmd.Flags().IntVar(&events, "events", 10000, "number of events (when --size is not given)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file (mode 0600); default stdout")
	cmd.Flags().StringVar(&start, "start", "", "simulated start time (RFC 3339)")
	cmd.Flags().Float64Var(&rate, "rate", 0, "mean events per simulated second (default 200)")
	return cmd
}

// parseSize parses sizes such as 512K, 100MB, 1GB, 1GiB.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, suf.s) {
			u, mult = strings.TrimSuffix(u, suf.s), suf.m
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(u), 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q (try 16MiB, 100MB or 1GB)", s)
	}
	return int64(n * float64(mult)), nil
}
