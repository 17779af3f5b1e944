package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"ktrail/report"
	"ktrail/tui"
)

// config is $XDG_CONFIG_HOME/ktrail/config.yaml. Unknown keys are
// ignored so that a newer file still works with an older ktrail.
type config struct {
	// Theme names the colour theme (see themes/README.md).
	Theme string `json:"theme,omitempty"`
	// Columns are the event list's columns.
	Columns []string `json:"columns,omitempty"`
	// Views are the saved views (name, filter, columns, time window).
	Views []tui.View `json:"views,omitempty"`
}

// xdgDir returns $<env>/ktrail, or $HOME/<fallback>/ktrail; "" when
// neither is set. Relative XDG paths are ignored, as the spec says.
func xdgDir(getenv func(string) string, env, fallback string) string {
	if d := getenv(env); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ktrail")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, fallback, "ktrail")
	}
	return ""
}

// loadConfig reads the config file; a missing file is an empty config, a
// broken one an error (the defaults are used).
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	dir := xdgDir(getenv, "XDG_CONFIG_HOME", ".config")
	if dir == "" {
		return c, nil
	}
	path := filepath.Join(dir, "config.yaml")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("ktrail: config %s: %v", path, err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return config{}, fmt.Errorf("ktrail: config %s: %v (using the defaults)", path, err)
	}
	return c, nil
}

// history keeps the applied filters in $XDG_STATE_HOME/ktrail/history
// (mode 0600), newest last, at most maxHistory.
type history struct {
	mu   sync.Mutex
	path string
}

const maxHistory = 500

func newHistory(getenv func(string) string) *history {
	dir := xdgDir(getenv, "XDG_STATE_HOME", ".local/state")
	if dir == "" {
		return &history{}
	}
	return &history{path: filepath.Join(dir, "history")}
}

func (h *history) load() []string {
	if h.path == "" {
		return nil
	}
	f, err := os.Open(h.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}

// add appends one filter; multi-line filters are stored on one line.
func (h *history) add(expr string) {
	if h.path == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, strings.ReplaceAll(expr, "\n", " "))
}

// configPath is $XDG_CONFIG_HOME/ktrail/config.yaml ("" when there is no
// home to put it in).
func configPath(getenv func(string) string) string {
	dir := xdgDir(getenv, "XDG_CONFIG_HOME", ".config")
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "config.yaml")
}

// updateConfig rewrites one top-level key of the config file, keeping the
// others as they are (comments are not kept). The file is written 0600,
// atomically.
func updateConfig(getenv func(string) string, key string, value any) error {
	path := configPath(getenv)
	if path == "" {
		return fmt.Errorf("ktrail: no $XDG_CONFIG_HOME or $HOME for the config file")
	}
	doc := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("ktrail: config %s: %v (not rewritten)", path, err)
		}
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("ktrail: config %s: %v", path, err)
	}
	doc[key] = value
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("ktrail: config: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("ktrail: config: %v", err)
	}
	return report.WriteFileAtomic(path, true, func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	})
}
