package history

import (
	"bytes"
	"encoding/json"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
)

// noisyMeta are the metadata members that change on every write without
// saying anything about what changed: they are left out of the states
// compared.
var noisyMeta = []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "selfLink"}

// noisyKeys are members dropped at any depth: heartbeats that change on
// every status update.
var noisyKeys = map[string]bool{"lastHeartbeatTime": true, "lastProbeTime": true, "lastUpdateTime": true}

// lastApplied is the kubectl annotation that repeats the whole object as
// one JSON string; its changes show in the object itself.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// normalize drops the noisy members of an object's state (in place) and
// returns it. The rule: metadata.managedFields, resourceVersion,
// generation, creationTimestamp and selfLink; the
// kubectl.kubernetes.io/last-applied-configuration annotation; and every
// lastHeartbeatTime, lastProbeTime and lastUpdateTime member.
func normalize(m map[string]any) map[string]any {
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range noisyMeta {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, lastApplied)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	dropNoisy(m)
	return m
}

func dropNoisy(x any) {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			if noisyKeys[k] {
				delete(t, k)
				continue
			}
			dropNoisy(v)
		}
	case []any:
		for _, v := range t {
			dropNoisy(v)
		}
	}
}

// pretty prints a state as indented JSON with sorted keys, one member per
// line, ending in a newline.
func pretty(x any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(x) != nil {
		return ""
	}
	return b.String()
}

// clone deep-copies a decoded JSON value.
func clone(x any) any {
	switch t := x.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, v := range t {
			c[k] = clone(v)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, v := range t {
			c[i] = clone(v)
		}
		return c
	}
	return x
}

// mergePatch applies a JSON merge patch (RFC 7386) to target. Strategic
// merge directives ($setElementOrder/…, $patch, $retainKeys…) are
// ignored and lists are replaced whole, so for a strategic merge patch
// the result is an approximation; the change is labelled so.
func mergePatch(target any, patch map[string]any) any {
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range patch {
		if strings.HasPrefix(k, "$") {
			continue
		}
		switch pv := v.(type) {
		case nil:
			delete(t, k)
		case map[string]any:
			t[k] = mergePatch(t[k], pv)
		default:
			t[k] = pv
		}
	}
	return normalize(t)
}

// unified returns the hunks of the unified diff from a to b: "@@" lines
// and lines starting with ' ', '-' or '+', at most opts.MaxDiff of them
// (then a last line says how many were left out).
func unified(a, b string, opts Options) []string {
	if a == b {
		return nil
	}
	edits := udiff.Lines(a, b)
	text, err := udiff.ToUnified("before", "after", a, edits, opts.Context)
	if err != nil || text == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) >= 2 && strings.HasPrefix(lines[0], "--- ") && strings.HasPrefix(lines[1], "+++ ") {
		lines = lines[2:]
	}
	out := lines[:0]
	for _, l := range lines {
		if strings.HasPrefix(l, `\ No newline`) {
			continue
		}
		out = append(out, l)
	}
	if len(out) > opts.MaxDiff {
		left := len(out) - opts.MaxDiff
		out = append(out[:opts.MaxDiff:opts.MaxDiff], "… "+itoa(left)+" more diff lines")
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
