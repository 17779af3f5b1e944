package report

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSessionSaveLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.json")
	in := &Session{
		Input: "audit.log", Filter: `verb == "delete"`, From: "2h", To: "2026-11-25T21:00:00Z",
		Marks: []SessionMark{{AuditID: createID, Stage: "ResponseComplete", Time: time.Date(2026, 11, 25, 20, 54, 58, 775792000, time.UTC), Note: nastyNote2}},
	}
	if err := in.Save(p); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	out, err := LoadSession(p)
	if err != nil {
		t.Fatal(err)
	}
	in.Version = SessionVersion
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n%+v\n%+v", in, out)
	}
	// Save replaces the file.
	out.Filter = ""
	if err := out.Save(p); err != nil {
		t.Fatal(err)
	}
	if again, _ := LoadSession(p); again.Filter != "" {
		t.Error("Save did not replace the file")
	}
	checkNoTemp(t, dir)
}

func TestParseSessionRejects(t *testing.T) {
	for _, bad := range []string{
		``, `[]`, `{"version":2}`, `{"marks":[{"stage":"ResponseComplete"}]}`, `{} {}`, `{"marks":[{"auditID":"a","time":"yesterday"}]}`,
	} {
		if _, err := ParseSession([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "report: session") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if s, err := ParseSession([]byte(`{"filter":"x","future":true}`)); err != nil || s.Version != 1 || s.Filter != "x" {
		t.Errorf("unknown members or a missing version: %+v %v", s, err)
	}
	p := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(p, []byte("{"), 0o600)
	if _, err := LoadSession(p); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("LoadSession: %v", err)
	}
	if _, err := LoadSession(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestResolveMarks(t *testing.T) {
	rep, s, v := realReport(t)
	var sess Session
	for _, m := range rep.Marks {
		sm, err := MarkFor(s, v.Rec(m.ID), m.Note)
		if err != nil {
			t.Fatal(err)
		}
		sess.Marks = append(sess.Marks, sm)
	}
	if sess.Marks[0].AuditID != aliceID || sess.Marks[0].Stage != "ResponseComplete" || sess.Marks[0].Time.IsZero() {
		t.Fatalf("MarkFor: %+v", sess.Marks[0])
	}
	good := sess.Marks[0]
	shifted, stage, unknown := good, good, good
	shifted.Time = shifted.Time.Add(time.Microsecond)
	stage.Stage = "RequestReceived"
	unknown.AuditID = "no-such-id"
	sess.Marks = append(sess.Marks, shifted, stage, unknown)
	marks, missing := sess.ResolveMarks(s, v)
	if !reflect.DeepEqual(marks, rep.Marks) {
		t.Errorf("marks %+v, want %+v", marks, rep.Marks)
	}
	if len(missing) != 3 {
		t.Errorf("missing %+v", missing)
	}
	if msg := unknown.String(); !strings.Contains(msg, "no-such-id") || !strings.Contains(msg, "ResponseComplete") {
		t.Errorf("String: %q", msg)
	}
}

func TestResolveMarksEscapedAuditID(t *testing.T) {
	ev := strings.Replace(evGet, `"auditID":"a1"`, `"auditID":"a\u0031b"`, 1)
	s := loadStore(t, []byte(ev+"\n"+evExec+"\n"))
	v := s.View()
	m, err := MarkFor(s, v.At(0), "n")
	if err != nil || m.AuditID != "a1b" {
		t.Fatalf("MarkFor: %+v %v", m, err)
	}
	sess := Session{Marks: []SessionMark{m}}
	marks, missing := sess.ResolveMarks(s, v)
	if len(marks) != 1 || marks[0].ID != v.ID(0) || len(missing) != 0 {
		t.Fatalf("marks %+v missing %+v", marks, missing)
	}
}
