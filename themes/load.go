package themes

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"

	"ktrail/internal/fuzzy"
)

// UserDir returns the directory user themes are read from:
// $XDG_CONFIG_HOME/ktrail/themes, or $HOME/.config/ktrail/themes when
// XDG_CONFIG_HOME is unset, empty or relative (the XDG spec says to ignore
// relative paths). It returns "" when neither variable is usable.
func UserDir(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ktrail", "themes")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "ktrail", "themes")
	}
	return ""
}

// LoadDir reads the user themes in dir: every *.yaml and *.yml file (the
// extension in any case; hidden files, directories and other files are
// ignored), one theme per file, in file-name order. A theme's name defaults
// to its file name without the extension; its colours overlay those of its
// base built-in theme (default "dark").
//
// Parsing is strict: unknown keys, values that are not colours, keys without
// a value, an unknown base and a name already taken (by a built-in or an
// earlier file) are errors. Each error is one line naming the file and, where
// there is one, the key. A file with errors is skipped; the others load.
// A missing directory (or dir == "") yields no themes and no errors.
func LoadDir(dir string) ([]Theme, []error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("themes: reading theme directory %s: %s", dir, oneLine(err.Error()))}
	}
	var (
		out  []Theme
		errs []error
	)
	taken := map[string]string{} // lower-case name → who has it
	for _, n := range builtinNames() {
		taken[strings.ToLower(n)] = "the built-in theme"
	}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		t, ferrs := loadFile(path)
		if len(ferrs) == 0 {
			if who, dup := taken[strings.ToLower(t.Name)]; dup {
				ferrs = append(ferrs, fileErr(path, "name %q is already used by %s; pick another name", t.Name, who))
			} else {
				taken[strings.ToLower(t.Name)] = filepath.Base(path)
			}
		}
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		out = append(out, t)
	}
	return out, errs
}

// loadFile reads and parses one theme file.
func loadFile(path string) (Theme, []error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Theme{}, []error{fmt.Errorf("themes: %s", oneLine(err.Error()))}
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return parse(path, stem, data)
}

// parse parses the YAML theme in data, read from path; defaultName is the
// name used when the file has no name key. It returns the resolved theme or
// every problem found, one error per problem.
func parse(path, defaultName string, data []byte) (Theme, []error) {
	var doc any
	// UnmarshalStrict rejects duplicate keys; unknown keys are checked below
	// so the message can name them and suggest a fix.
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		return Theme{}, []error{fileErr(path, "invalid YAML: %s", yamlMessage(err))}
	}
	if doc == nil {
		doc = map[string]any{} // an empty file: the base theme under the file's name
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return Theme{}, []error{fileErr(path, "want a mapping of theme keys to colours, got %s", kind(doc))}
	}

	var (
		t    Theme
		errs []error
	)
	t.Name = defaultName
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m[k]
		switch k {
		case "name", "base":
			s, ok := v.(string)
			if !ok {
				errs = append(errs, fileErr(path, "key %q must be a string, got %s", k, kind(v)))
				continue
			}
			s = strings.TrimSpace(s)
			if k == "name" {
				if err := checkName(s); err != nil {
					errs = append(errs, fileErr(path, "key \"name\": %v", err))
					continue
				}
				t.Name = s
			} else {
				t.Base = s
			}
			continue
		}
		i := slices.IndexFunc(colourFields, func(cf colourField) bool { return cf.key == k })
		if i < 0 {
			errs = append(errs, fileErr(path, "key %q is not a theme colour (%s)", k, suggest(k)))
			continue
		}
		s, err := colourValue(v)
		if err == nil && s != "" {
			err = checkColour(s)
		}
		if err != nil {
			errs = append(errs, fileErr(path, "key %q: %v", k, err))
			continue
		}
		*colourPtr(&t, colourFields[i]) = s
	}
	if t.Base == "" {
		t.Base = Default().Name
	}
	base, ok := builtin(t.Base)
	if !ok {
		errs = append(errs, fileErr(path, "key \"base\": %q is not a built-in theme (built-ins: %s)", t.Base, strings.Join(builtinNames(), ", ")))
	}
	if len(errs) == 0 && defaultName == t.Name {
		if err := checkName(t.Name); err != nil {
			errs = append(errs, fileErr(path, "the file name is not a usable theme name (%v); add a name key", err))
		}
	}
	if len(errs) > 0 {
		return Theme{}, errs
	}
	out := overlay(base, t)
	out.Name, out.Base = t.Name, base.Name
	return out, nil
}

// colourValue converts a decoded YAML value into a colour string. A string is
// trimmed (an empty one means "inherit from base"); an integer is taken as an
// ANSI index. A key without a value is an error, because the usual cause is
// an unquoted hex colour: in YAML, `fg: #d0d0d0` is a comment, not a colour.
func colourValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v), nil
	case float64:
		if v != math.Trunc(v) || v < 0 || v > 255 {
			return "", fmt.Errorf("%v is not a colour: want \"#rrggbb\", \"#rgb\" or an ANSI index 0-255", v)
		}
		return strconv.Itoa(int(v)), nil
	case nil:
		return "", errors.New(`no value; quote hex colours ("#d0d0d0"), since an unquoted # starts a YAML comment`)
	default:
		return "", fmt.Errorf("want a colour string, got %s", kind(v))
	}
}

// checkName returns an error unless name can be typed after --theme: not
// empty and free of control characters.
func checkName(name string) error {
	if name == "" {
		return errors.New("the name is empty")
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("%q contains control characters", name)
	}
	return nil
}

// suggest returns the hint for an unknown key: the closest valid key when
// one is close, else the list of valid keys.
func suggest(key string) string {
	valid := []string{"name", "base"}
	for _, cf := range colourFields {
		valid = append(valid, cf.key)
	}
	best, bestDist := "", math.MaxInt
	for _, v := range valid {
		if d := fuzzy.Distance(strings.ToLower(key), strings.ToLower(v)); d < bestDist {
			best, bestDist = v, d
		}
	}
	if bestDist <= 2 || (bestDist <= 3 && len(key) >= 8) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "valid keys: " + strings.Join(valid, ", ")
}

// fileErr returns a one-line error about the theme file at path.
func fileErr(path, format string, args ...any) error {
	return fmt.Errorf("themes: %s: %s", path, oneLine(fmt.Sprintf(format, args...)))
}

// yamlMessage returns the YAML parser's message for err without the
// conversion prefixes sigs.k8s.io/yaml adds.
func yamlMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// oneLine joins the lines of s with "; " so every error stays on one line.
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}

// kind names the YAML type of a decoded value for error messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
