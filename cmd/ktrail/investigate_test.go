package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ktrail/report"
	"ktrail/tui"
)

func TestSessionPathPerInputSet(t *testing.T) {
	env := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return "/state"
		}
		return ""
	}
	a := sessionPath(env, []string{"b.log", "a.log"}, false)
	b := sessionPath(env, []string{"a.log", "b.log"}, false)
	c := sessionPath(env, []string{"a.log"}, false)
	if a == "" || a != b || a == c || !strings.HasPrefix(a, "/state/ktrail/sessions/") {
		t.Fatalf("paths %q %q %q", a, b, c)
	}
	if sessionPath(env, []string{"-"}, false) != "" || sessionPath(env, nil, false) != "" {
		t.Fatal("stdin got a session")
	}
	if d := sessionPath(env, nil, true); d == "" || d == a {
		t.Fatalf("demo session %q", d)
	}
}

func TestSessionAndViewsArePersisted(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		switch k {
		case "XDG_STATE_HOME", "XDG_CONFIG_HOME":
			return dir
		}
		return ""
	}
	var opts tui.Options
	path := sessionPath(env, []string{realLog}, false)
	wireSession(&opts, path, realLog, os.Stderr)
	if opts.Session != nil {
		t.Fatal("a session before any was saved")
	}
	opts.OnSession(&report.Session{Filter: `verb == "get"`, Marks: []report.SessionMark{{AuditID: "x", Stage: "ResponseComplete", Note: "n"}}})
	var again tui.Options
	wireSession(&again, path, realLog, os.Stderr)
	if again.Session == nil || again.Session.Filter != `verb == "get"` || again.Session.Input != realLog || len(again.Session.Marks) != 1 {
		t.Fatalf("restored %+v", again.Session)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("session mode %v", st.Mode())
	}
	wireViews(&opts, config{}, env, os.Stderr)
	opts.OnSaveView(tui.View{Name: "secrets", Filter: `resource == "secrets"`})
	opts.OnSaveView(tui.View{Name: "errors", Filter: `code >= 400`})
	opts.OnSaveView(tui.View{Name: "secrets", Filter: `resource == "secrets" && verb == "get"`})
	opts.OnDeleteView("errors")
	cfg, err := loadConfig(env)
	if err != nil || len(cfg.Views) != 1 || cfg.Views[0].Filter != `resource == "secrets" && verb == "get"` {
		t.Fatalf("views %+v %v", cfg.Views, err)
	}
}

func TestTUIReportHookWritesAReport(t *testing.T) {
	sess, err := openInputs([]string{realLog}, nil, os.Stderr, inputFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.close()
	if err := sess.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := sess.store.View()
	ids := make([]uint32, 0, v.Len())
	v.EachID(0, v.Len(), func(_ int, id uint32) bool { ids = append(ids, id); return true })
	out := filepath.Join(t.TempDir(), "r.md")
	msg, err := tuiReport(sess, []string{realLog}, true, true)(context.Background(), tui.ReportRequest{Path: out, View: v, IDs: ids})
	if err != nil || !strings.Contains(msg, "r.md.sha256") {
		t.Fatalf("%q %v", msg, err)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "228") || strings.Contains(string(b), "aHVudGVyMg") {
		t.Fatalf("report:\n%.500s", b)
	}
	if _, err := tuiReport(sess, []string{realLog}, true, true)(context.Background(), tui.ReportRequest{Path: out, View: v, IDs: ids}); err == nil {
		t.Fatal("an existing report was replaced")
	}
}
