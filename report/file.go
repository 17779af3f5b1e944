package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"ktrail/audit"
)

// FormatForPath picks the format a file name asks for: .csv is CSV, .json
// a JSON array, anything else JSON lines.
func FormatForPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV
	case ".json":
		return FormatJSON
	}
	return FormatJSONL
}

// WriteFileAtomic writes a file of mode 0600 that is never seen half
// written: the content goes to a temporary file in the same directory,
// is synced, and is then renamed over path (overwrite) or linked to path,
// which fails with an error wrapping fs.ErrExist when path exists.
func WriteFileAtomic(path string, overwrite bool, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("report: %s: %w", path, fs.ErrExist)
		}
	}
	tmp, err := os.CreateTemp(dir, ".ktrail-*.tmp")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if overwrite {
		if err = os.Rename(name, path); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	} else {
		// A hard link does not replace an existing file: no window in
		// which another file created meanwhile would be overwritten.
		if err = os.Link(name, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("report: %s: %w", path, fs.ErrExist)
			}
			return fmt.Errorf("report: %w", err)
		}
		os.Remove(name)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// SaveEvents writes the events ids of v to path in the format its name
// asks for (FormatForPath), atomically and with mode 0600, and returns
// how many were written.
func SaveEvents(ctx context.Context, path string, s *audit.Store, v *audit.View, ids []uint32, opts Options, overwrite bool) (int, error) {
	n := 0
	err := WriteFileAtomic(path, overwrite, func(w io.Writer) error {
		out, err := NewWriter(w, FormatForPath(path), s, opts)
		if err != nil {
			return err
		}
		var raw []byte
		for _, id := range ids {
			if n&4095 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			r := v.Rec(id)
			if raw, err = s.Raw(r, raw[:0]); err != nil {
				return fmt.Errorf("report: reading event: %w", err)
			}
			if err := out.Write(r, raw); err != nil {
				return err
			}
			n++
		}
		return out.Close()
	})
	return n, err
}
