package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ktrail/report"
	"ktrail/tui"
)

// sessionPath is where the marks, notes, filter and window of an
// investigation on these inputs are kept: one file per set of inputs under
// $XDG_STATE_HOME/ktrail/sessions/. Stdin has no session (it cannot be
// read again).
func sessionPath(getenv func(string) string, paths []string, demo bool) string {
	dir := xdgDir(getenv, "XDG_STATE_HOME", ".local/state")
	if dir == "" {
		return ""
	}
	var keys []string
	for _, p := range paths {
		if p == "-" {
			return ""
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		keys = append(keys, p)
	}
	if demo {
		keys = []string{"(demo)"}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	sum := sha256.Sum256([]byte(strings.Join(keys, "\x00")))
	return filepath.Join(dir, "sessions", hex.EncodeToString(sum[:8])+".json")
}

// wireSession loads the session file of the inputs into opts and saves it
// on every change.
func wireSession(opts *tui.Options, path, input string, stderr io.Writer) {
	if path == "" {
		return
	}
	if s, err := report.LoadSession(path); err == nil {
		opts.Session = s
	} else if !os.IsNotExist(unwrapAll(err)) {
		fmt.Fprintf(stderr, "ktrail: session %s: %v (starting a new one)\n", path, err)
	}
	opts.OnSession = func(s *report.Session) {
		s.Input = input
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return
		}
		_ = s.Save(path)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}

// wireViews gives the view the saved views of the config file and keeps
// the file up to date when views are saved or deleted.
func wireViews(opts *tui.Options, cfg config, getenv func(string) string, errs io.Writer) {
	views := slices.Clone(cfg.Views)
	opts.Views = views
	save := func() {
		if err := updateConfig(getenv, "views", views); err != nil {
			fmt.Fprintln(errs, err)
		}
	}
	opts.OnSaveView = func(v tui.View) {
		i := slices.IndexFunc(views, func(e tui.View) bool { return e.Name == v.Name })
		if i >= 0 {
			views[i] = v
		} else {
			views = append(views, v)
		}
		save()
	}
	opts.OnDeleteView = func(name string) {
		views = slices.DeleteFunc(views, func(e tui.View) bool { return e.Name == name })
		save()
	}
}

// tuiReport writes the report S asks for: the same content as ktrail
// report, for the events and marks of the view.
func tuiReport(sess *session, paths []string, redact, utc bool) tui.ReportFunc {
	return func(ctx context.Context, req tui.ReportRequest) (string, error) {
		format, err := reportFormatFor("", req.Path)
		if err != nil {
			return "", err
		}
		store, v := sess.store, req.View
		rep := &report.Report{
			Title: "ktrail investigation", Generated: time.Now(), Filter: req.Filter,
			From: req.From, To: req.To, Total: v.Len(), Matched: len(req.IDs), Events: req.IDs, Marks: req.Marks,
		}
		if rep.Sources, err = reportSources(store, sess.set.Names(), paths); err != nil {
			return "", err
		}
		if err := fillReport(ctx, rep, store, v, req.IDs, [][]string{{"user"}, {"sourceIP"}, {"resource"}}, 10); err != nil {
			return "", err
		}
		opts := report.Options{Redact: redact, UTC: utc}
		if err := report.SaveReport(req.Path, format, rep, store, v, opts, false); err != nil {
			return "", err
		}
		return fmt.Sprintf("wrote %s and %s%s", req.Path, req.Path, report.DigestSuffix), nil
	}
}
