package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"ktrail/audit"
	trail "ktrail/tui/history"
)

// historyFlags are the flags of `ktrail history`.
type historyFlags struct {
	inputFlags
	object   string
	user     string
	request  string
	output   string
	diff     bool
	noRedact bool
	local    bool
	now      string
	since    string
	until    string
}

// newHistoryCmd is `ktrail history`: follow an object, a user or a
// request through the audit events, like o, u and a in the interactive
// view.
func newHistoryCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var h historyFlags
	cmd := &cobra.Command{
		Use:   "history (--object RES/NS/NAME | --object RES/NAME | --user USER | --request AUDITID) [flags] [PATH…]",
		Short: "Follow an object, a user or a request through the audit events",
		Long: `history reads the inputs like ktrail query and follows one thing:

  --object RES/NS/NAME   every request about the object (RES/NAME for a cluster-
                         scoped one), subresources included, in time order, with
                         who made it; with --diff, the diff of the object's state
                         after each request where the log has bodies (managedFields,
                         resourceVersion, generation and timestamps left out)
  --user USER            the user's activity per time bucket and verb
  --request AUDITID      every stage of one request, joined, with timings

Secret values and tokens are redacted unless --no-redact.
Exit codes: 0 something found, 1 nothing, 2 usage or fatal error, 3 found but
some input lines were skipped.`,
		Example: `  ktrail history --object pods/shop/web --diff /var/log/kubernetes/audit.log
  ktrail history --object clusterrolebindings/backdoor-admin --demo
  ktrail history --user alice@example.com -o jsonl audit.log
  ktrail history --request 4f1c…-9a2e audit.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHistory(cmd.Context(), h, args, stdin, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&h.object, "object", "", "follow an object: RESOURCE/NAMESPACE/NAME, or RESOURCE/NAME when cluster-scoped")
	f.StringVar(&h.user, "user", "", "follow a user (user.username)")
	f.StringVar(&h.request, "request", "", "join the stages of the request with this auditID")
	f.StringVarP(&h.output, "output", "o", "table", "output format: table or jsonl")
	f.BoolVar(&h.diff, "diff", false, "with --object: print the diff of the object's state after each request")
	f.BoolVar(&h.noRedact, "no-redact", false, "print Secret values and tokens as they are in the log")
	f.BoolVar(&h.local, "local", false, "show times in the local time zone (default UTC)")
	f.StringVar(&h.now, "now", "", "the time --since/--until count from (RFC 3339; default the wall clock)")
	f.StringVar(&h.since, "since", "", "only events at or after this time: a duration before --now (1h, 2d) or RFC 3339")
	f.StringVar(&h.until, "until", "", "only events before this time: a duration before --now or RFC 3339")
	f.BoolVar(&h.strict, "strict", false, "stop at the first input line that cannot be read")
	f.BoolVar(&h.demo, "demo", false, "read the embedded demo dataset")
	return cmd
}

func runHistory(ctx context.Context, h historyFlags, paths []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	n := 0
	for _, s := range []string{h.object, h.user, h.request} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return usageErr("history: give exactly one of --object, --user or --request")
	}
	if h.output != "table" && h.output != "jsonl" {
		return usageErr("history: -o must be table or jsonl, not %q", h.output)
	}
	var obj trail.Object
	if h.object != "" {
		var err error
		if obj, err = trail.ParseObject(h.object); err != nil {
			return usageErr("history: --object: %v", err)
		}
	}
	sess, err := openInputs(paths, stdin, stderr, h.inputFlags)
	if err != nil {
		return err
	}
	defer sess.close()
	skipped, err := sess.finish(sess.load(ctx))
	if err != nil {
		return err
	}
	store, v := sess.store, sess.store.View()
	now := time.Now()
	if h.now != "" {
		if now, err = time.Parse(time.RFC3339Nano, h.now); err != nil {
			return usageErr("--now %q: want RFC 3339, e.g. 2026-11-25T10:00:00Z", h.now)
		}
	}
	expr, err := startFilter(nil, h.since, h.until, now)
	if err != nil {
		return err
	}
	loc := time.UTC
	if h.local {
		loc = time.Local
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	var found int
	switch {
	case h.object != "":
		found, err = historyObject(ctx, w, h, store, v, obj, and(obj.Filter(), expr), now, loc)
	case h.user != "":
		found, err = historyUser(ctx, w, h, store, v, and(trail.UserFilter(h.user), expr), now, loc)
	default:
		found, err = historyRequest(ctx, w, h, store, v, expr, now, loc)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	switch {
	case err != nil:
		return err
	case found == 0:
		return &exitError{exitNone}
	case skipped > 0:
		return &exitError{exitSkipped}
	}
	return nil
}

// and joins two filter expressions.
func and(a, b string) string {
	if b == "" {
		return a
	}
	return "(" + a + ") && (" + b + ")"
}

func historyObject(ctx context.Context, w io.Writer, h historyFlags, store *audit.Store, v *audit.View, obj trail.Object, expr string, now time.Time, loc *time.Location) (int, error) {
	ids, err := trail.Eval(ctx, store, v, expr, now)
	if err != nil {
		return 0, err
	}
	changes, err := trail.ObjectHistory(ctx, store, v, ids, trail.Options{Redact: !h.noRedact})
	if err != nil {
		return 0, err
	}
	if h.output == "jsonl" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, c := range changes {
			rec := map[string]any{"object": obj.String(), "time": jsonTime(c.Time), "auditID": c.AuditID, "verb": c.Verb,
				"subresource": c.Sub, "user": c.User, "sourceIP": c.SourceIP, "userAgent": c.UserAgent, "code": c.Code,
				"stages": c.Stages, "kind": c.Kind, "patch": c.Patch}
			if h.diff {
				rec["diff"] = c.Diff
			}
			if err := enc.Encode(rec); err != nil {
				return 0, err
			}
		}
		return len(changes), nil
	}
	for _, l := range trail.ObjectDoc(obj, changes, loc) {
		if !h.diff && (l.Kind == trail.Hunk || l.Kind == trail.Add || l.Kind == trail.Del || l.Kind == trail.Ctx) {
			continue
		}
		if _, err := fmt.Fprintln(w, l.Text); err != nil {
			return 0, err
		}
	}
	return len(changes), nil
}

func historyUser(ctx context.Context, w io.Writer, h historyFlags, store *audit.Store, v *audit.View, expr string, now time.Time, loc *time.Location) (int, error) {
	ids, err := trail.Eval(ctx, store, v, expr, now)
	if err != nil {
		return 0, err
	}
	a := trail.UserActivity(store, v, ids, h.user)
	if h.output == "jsonl" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, b := range a.Buckets {
			rec := map[string]any{"user": a.User, "from": jsonTime(b.From), "step": a.Step.String(), "total": b.Total,
				"verbs": b.Verbs, "denied": b.Denied, "errors": b.Errors}
			if err := enc.Encode(rec); err != nil {
				return 0, err
			}
		}
		return a.Total, nil
	}
	_, err = io.WriteString(w, trail.PlainText(trail.UserDoc(a, loc)))
	return a.Total, err
}

func historyRequest(ctx context.Context, w io.Writer, h historyFlags, store *audit.Store, v *audit.View, expr string, now time.Time, loc *time.Location) (int, error) {
	want := audit.HashID([]byte(h.request))
	var ids []uint32
	v.EachID(0, v.Len(), func(_ int, id uint32) bool {
		if v.Rec(id).AuditID == want {
			ids = append(ids, id)
		}
		return true
	})
	if expr != "" && len(ids) > 0 {
		in, err := trail.Eval(ctx, store, v, expr, now)
		if err != nil {
			return 0, err
		}
		keep := map[uint32]bool{}
		for _, id := range in {
			keep[id] = true
		}
		out := ids[:0]
		for _, id := range ids {
			if keep[id] {
				out = append(out, id)
			}
		}
		ids = out
	}
	if len(ids) == 0 {
		return 0, nil
	}
	q, err := trail.JoinRequest(store, v, ids, !h.noRedact)
	if err != nil {
		return 0, err
	}
	if q.AuditID != h.request {
		return 0, nil // only a hash collision
	}
	if h.output == "jsonl" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		stages := make([]map[string]any, len(q.Stages))
		for i, s := range q.Stages {
			stages[i] = map[string]any{"stage": s.Stage, "stageTimestamp": jsonTime(s.At), "sinceReceived": s.Since.String(), "code": s.Code}
		}
		return len(q.Stages), enc.Encode(map[string]any{"auditID": q.AuditID, "verb": q.Verb, "requestURI": q.URI, "user": q.User,
			"groups": q.Groups, "impersonatedUser": q.ImpUser, "sourceIPs": q.SourceIPs, "userAgent": q.UserAgent,
			"object": q.Object, "level": q.Level, "received": jsonTime(q.Received), "latency": q.Latency().String(),
			"code": q.Code, "reason": q.Reason, "message": q.Message, "annotations": q.Annots, "stages": stages})
	}
	_, err = io.WriteString(w, trail.PlainText(trail.RequestDoc(q, loc)))
	return len(q.Stages), err
}

// jsonTime prints Unix ns as RFC 3339 in UTC, or null for 0.
func jsonTime(ns int64) any {
	if ns == 0 {
		return nil
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
