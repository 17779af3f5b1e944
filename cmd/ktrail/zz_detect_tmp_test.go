package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"ktrail/audit"
	"ktrail/detect"
	"ktrail/report"
	"ktrail/sources"
)

func TestZZDetectTmp(t *testing.T) {
	store := audit.NewStore()
	set, err := sources.Open(store, []string{"../../testdata/kube-apiserver-v1.37/detections/audit.log"}, nil, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if err := set.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("theme: dark\ndetections:\n- id: mallory\n  severity: high\n  expr: user == \"mallory\" && code == 403\n- id: auth-401-burst\n  name: tuned\n  expr: code == 401\n  groupBy: [sourceIP]\n  window: 1m\n  threshold: 10\n"), 0o600)
	user, err := loadUserRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rules := detect.Merge(detect.Builtins(), user)
	for _, f := range []report.Format{report.FormatTable, report.FormatJSONL, report.FormatCSV} {
		var b bytes.Buffer
		n, err := writeDetections(&b, f, store, store.View(), nil, rules, report.Options{Redact: true, UTC: true})
		fmt.Printf("=== %v n=%d err=%v\n%s\n", f, n, err, b.String()[:min(b.Len(), 9000)])
	}
	os.WriteFile(cfg, []byte("detections:\n- id: x\n  expr: 'true'\n  window: 5\n"), 0o600)
	_, err = loadUserRules(cfg)
	fmt.Println(err)
	_, err = loadUserRules(filepath.Join(t.TempDir(), "none.yaml"))
	fmt.Println(err)
}
