package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUIRefusesBadStartingState checks that the interactive view reports
// a bad filter, theme or column as a one-line usage error before it takes
// over the terminal.
func TestTUIRefusesBadStartingState(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-e", `usr == "x"`, realLog}, "did you mean user"},
		{[]string{"--theme", "neon", realLog}, "dark"},
		{[]string{"--columns", "time,usr", realLog}, `unknown column "usr"`},
		{[]string{"--since", "yesterday", realLog}, "--since"},
		{[]string{"nosuchfile.log"}, "nosuchfile.log"},
	}
	for _, c := range cases {
		_, stderr, code := run(t, "", c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: code %d stderr %q, want one line with %q", c.args, code, stderr, c.want)
		}
	}
}

func TestStartFilterJoinsExpressionsAndTimes(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	got, err := startFilter([]string{`verb == "get"`, `code >= 400`}, "1h", "2026-11-24T14:30:00Z", now)
	if err != nil {
		t.Fatal(err)
	}
	want := `(verb == "get") && (code >= 400) && since("2026-11-24T14:00:00Z") && before("2026-11-24T14:30:00Z")`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestConfigAndHistoryFiles(t *testing.T) {
	cfgDir, stateDir := t.TempDir(), t.TempDir()
	env := func(k string) string {
		switch k {
		case "XDG_CONFIG_HOME":
			return cfgDir
		case "XDG_STATE_HOME":
			return stateDir
		}
		return ""
	}
	os.MkdirAll(filepath.Join(cfgDir, "ktrail"), 0o700)
	os.WriteFile(filepath.Join(cfgDir, "ktrail", "config.yaml"), []byte("theme: light\ncolumns: [time, user]\nfuture: ignored\n"), 0o600)
	c, err := loadConfig(env)
	if err != nil || c.Theme != "light" || strings.Join(c.Columns, ",") != "time,user" {
		t.Fatalf("config %+v %v", c, err)
	}
	h := newHistory(env)
	h.add(`verb == "get"`)
	h.add("a\nb")
	if got := h.load(); strings.Join(got, "|") != `verb == "get"|a b` {
		t.Fatalf("history %q", got)
	}
	st, err := os.Stat(filepath.Join(stateDir, "ktrail", "history"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("history file %v %v", st, err)
	}
	os.WriteFile(filepath.Join(cfgDir, "ktrail", "config.yaml"), []byte("theme: [\n"), 0o600)
	if _, err := loadConfig(env); err == nil || !strings.Contains(err.Error(), "config.yaml") {
		t.Fatalf("a broken config gave %v", err)
	}
}

func TestUpdateConfigKeepsOtherKeys(t *testing.T) {
	cfgDir := t.TempDir()
	env := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return cfgDir
		}
		return ""
	}
	if err := updateConfig(env, "views", []map[string]string{{"name": "a", "filter": `verb == "get"`}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfgDir, "ktrail", "config.yaml")
	os.WriteFile(path, []byte("theme: light\nviews: []\n"), 0o600)
	if err := updateConfig(env, "views", []map[string]string{{"name": "b", "filter": "code >= 400"}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "theme: light") || !strings.Contains(string(b), "code >= 400") {
		t.Fatalf("config:\n%s", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	os.WriteFile(path, []byte("theme: [\n"), 0o600)
	if err := updateConfig(env, "views", nil); err == nil {
		t.Fatal("a broken config was overwritten")
	}
}

// TestReadmeConfigExample keeps the config file example in README.md valid:
// it loads, with its views and its detection rules.
func TestReadmeConfigExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "```yaml\ntheme: light")
	if i < 0 {
		t.Fatal("the config example is not in README.md")
	}
	block := s[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ktrail"), 0o700)
	path := filepath.Join(dir, "ktrail", "config.yaml")
	os.WriteFile(path, []byte(block), 0o600)
	cfg, err := loadConfig(func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	})
	if err != nil || cfg.Theme != "light" || len(cfg.Views) != 1 || cfg.Views[0].Filter == "" || cfg.Views[0].From == "" {
		t.Fatalf("config %+v %v", cfg, err)
	}
	rules, err := loadUserRules(path)
	if err != nil || len(rules) != 2 || rules[0].ID != "prod-secret-delete" {
		t.Fatalf("rules %+v %v", rules, err)
	}
}
