package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"ktrail/audit"
	"ktrail/detect"
	"ktrail/filters"
	"ktrail/internal/syncbuf"
	"ktrail/report"
	"ktrail/themes"
	"ktrail/tui"
)

// tuiFlags are the flags of the interactive view (the root command and
// `ktrail demo`).
type tuiFlags struct {
	queryFlags
	theme   string
	noColor bool
	srv     serverFlags // --listen: the webhook receiver feeding the view
}

func addTUIFlags(cmd *cobra.Command, t *tuiFlags) {
	addQueryFlags(cmd, &t.queryFlags)
	f := cmd.Flags()
	f.BoolVarP(&t.follow, "follow", "f", false, "keep reading files as they grow, rotate and appear (like tail -F)")
	f.StringVar(&t.theme, "theme", "", "colour theme: dark, light, high-contrast or a user theme (default from the config file, else dark)")
	f.BoolVar(&t.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
}

// demoBanner is shown over the demo data.
const demoBanner = "Demo data: an incident hidden in 3 h of traffic (try f, then sourceIP == \"203.0.113.45\"). Your own logs: ktrail /var/log/kubernetes/audit.log · ? help · q quit"

// runTUI opens the inputs and runs the interactive view until the user
// quits. Skipped input lines are collected while the screen is in use and
// printed when it closes.
func runTUI(ctx context.Context, t tuiFlags, paths []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg, cfgErr := loadConfig(os.Getenv)
	theme, all, err := pickTheme(t.theme, cfg.Theme)
	if err != nil {
		return err
	}
	var late syncbuf.Buffer // line errors while the screen is in use
	banner, listenName := "", ""
	var srvDone <-chan error
	if t.srv.listen != "" {
		srv, dir, done, err := startServer(ctx, &t.srv, &late)
		srvDone = done
		if err != nil {
			return err
		}
		scheme := "https"
		if t.srv.plainHTTP {
			scheme = "http"
		}
		banner = fmt.Sprintf("Receiving audit events on %s://%s (POST /audit/<cluster>), kept in %s", scheme, srv.Addr(), dir)
		paths = append(paths, dir)
		t.follow = true
		listenName = fmt.Sprintf("webhook %s", srv.Addr())
	}
	sess, err := openInputs(paths, stdin, &late, t.inputFlags)
	if err != nil {
		return err
	}
	defer sess.close()
	var loading atomic.Bool
	loading.Store(true)
	loadDone := make(chan error, 1)
	go func() {
		err := sess.load(ctx)
		loading.Store(false)
		loadDone <- err
	}()
	now, err := tuiNow(t, sess)
	if err != nil {
		return err
	}
	filter, err := startFilter(t.exprs, t.since, t.until, now)
	if err != nil {
		return err
	}
	if _, err := filters.Compile(sess.store, []string{filter}, filters.Options{Now: now}); err != nil {
		return err
	}
	cols := t.columns
	if len(cols) == 0 {
		cols = cfg.Columns
	}
	if err := checkColumns(cols); err != nil {
		return err
	}
	hist := newHistory(os.Getenv)
	opts := tui.Options{
		Store:   sess.store,
		Filter:  filter,
		Now:     now,
		Redact:  !t.noRedact,
		UTC:     !t.local,
		Follow:  t.follow || (len(paths) == 0 && !t.demo) || contains(paths, "-"),
		Columns: cols,
		Theme:   theme, Themes: all,
		NoColor:   t.noColor || themes.NoColor(os.Getenv),
		History:   hist.load(),
		OnHistory: hist.add,
		Status: func() tui.Status {
			p := sess.set.Progress()
			names := sess.set.Names()
			if t.demo {
				names = []string{"demo"}
			}
			if listenName != "" {
				names = []string{listenName}
			}
			return tui.Status{Names: names, Done: p.Done, Total: p.Total, Skipped: p.Skipped,
				Live: p.Live, Loading: loading.Load()}
		},
		Save: func(ctx context.Context, path string, v *audit.View, ids []uint32, overwrite bool) (int, error) {
			return report.SaveEvents(ctx, path, sess.store, v, ids,
				report.Options{Redact: !t.noRedact, UTC: !t.local}, overwrite)
		},
	}
	input := ""
	if len(paths) == 1 && !t.demo {
		input = paths[0]
	}
	wireSession(&opts, sessionPath(os.Getenv, paths, t.demo), input, &late)
	wireViews(&opts, cfg, os.Getenv, &late)
	opts.Report = tuiReport(sess, paths, !t.noRedact, !t.local)
	if rules, err := allRules(); err != nil {
		fmt.Fprintln(&late, err)
	} else if e, err := detect.Compile(sess.store, rules, filters.Options{Now: now}); err != nil {
		fmt.Fprintln(&late, err)
	} else {
		opts.Detect = e
	}
	if t.demo {
		opts.Banner = demoBanner
	}
	if banner != "" {
		opts.Banner = banner
	}
	prog := tea.NewProgram(tui.New(opts), tea.WithContext(ctx), tea.WithOutput(stdout))
	_, runErr := prog.Run()
	cancel()
	select {
	case <-loadDone:
	case <-time.After(5 * time.Second):
	}
	if srvDone != nil {
		// In-flight batches are answered (and on disk) before it returns.
		select {
		case <-srvDone:
		case <-time.After(10 * time.Second):
		}
	}
	if cfgErr != nil {
		fmt.Fprintln(stderr, cfgErr)
	}
	stderr.Write(late.Bytes())
	sess.errs.setWriter(stderr)
	sess.errs.summary()
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) && !errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("ktrail: the terminal UI stopped: %v", runErr)
	}
	return nil
}

// tuiNow is what relative times count from: --now, the demo's last
// event, or the wall clock.
func tuiNow(t tuiFlags, sess *session) (time.Time, error) {
	if t.now != "" {
		now, err := time.Parse(time.RFC3339Nano, t.now)
		if err != nil {
			return now, usageErr("--now %q: want RFC 3339, e.g. 2026-11-25T10:00:00Z", t.now)
		}
		return now, nil
	}
	if t.demo {
		// The demo is small: index it first so that its last event is known.
		deadline := time.Now().Add(5 * time.Second)
		for sess.set.Progress().Events < 6000 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if v := sess.store.View(); v.Len() > 0 {
			return time.Unix(0, v.At(v.Len()-1).Time).UTC(), nil
		}
	}
	return time.Time{}, nil
}

// startFilter joins -e expressions and --since/--until into one filter.
func startFilter(exprs []string, since, until string, now time.Time) (string, error) {
	var parts []string
	for _, e := range exprs {
		if e = strings.TrimSpace(e); e != "" {
			if len(exprs) > 1 {
				e = "(" + e + ")"
			}
			parts = append(parts, e)
		}
	}
	base := now
	if base.IsZero() {
		base = time.Now()
	}
	if since != "" {
		t, err := parseWhen(since, base)
		if err != nil {
			return "", usageErr("--since: %v", err)
		}
		parts = append(parts, "since("+strconv.Quote(t.UTC().Format(time.RFC3339Nano))+")")
	}
	if until != "" {
		t, err := parseWhen(until, base)
		if err != nil {
			return "", usageErr("--until: %v", err)
		}
		parts = append(parts, "before("+strconv.Quote(t.UTC().Format(time.RFC3339Nano))+")")
	}
	return strings.Join(parts, " && "), nil
}

func checkColumns(cols []string) error {
	known := tui.ColumnNames()
	for _, c := range cols {
		ok := false
		for _, k := range known {
			ok = ok || strings.EqualFold(c, k)
		}
		if !ok {
			return usageErr("unknown column %q: choose from %s", c, strings.Join(known, ", "))
		}
	}
	return nil
}

// pickTheme resolves --theme, then the config file's theme, among the
// built-in and user themes.
func pickTheme(flag, cfg string) (themes.Theme, []themes.Theme, error) {
	all := themes.Builtins()
	user, errs := themes.LoadDir(themes.UserDir(os.Getenv))
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, e)
	}
	all = append(all, user...)
	name := flag
	if name == "" {
		name = cfg
	}
	t, err := themes.Find(all, name)
	if err != nil {
		return t, nil, usageErr("%v", err)
	}
	return t, all, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
