// Command gendemo writes demo.jsonl.gz, the demo dataset embedded by
// package auditgen. Run it with "go generate" in audit/auditgen. The
// gzip header carries no name and no modification time, so the file is
// the same on every run.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"

	"ktrail/audit/auditgen"
)

func main() {
	if err := run("demo.jsonl.gz"); err != nil {
		fmt.Fprintln(os.Stderr, "gendemo:", err)
		os.Exit(1)
	}
}

// run writes the demo to path atomically (temporary file and rename).
func run(path string) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := auditgen.WriteDemo(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-*.gz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	fmt.Printf("gendemo: wrote %s (%d bytes)\n", path, buf.Len())
	return nil
}
