package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"ktrail/filters"
)

func TestWriteGapsFindsTheDemoAuditGap(t *testing.T) {
	sess, err := openInputs(nil, nil, &bytes.Buffer{}, inputFlags{demo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.close()
	if err := sess.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := sess.store.View()
	f, err := filters.Compile(sess.store, nil, filters.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.Eval(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := writeGaps(&b, sess.store, v, ids, 0, true)
	if err != nil || n != 1 {
		t.Fatalf("%d gaps, %v:\n%s", n, err, b.String())
	}
	// The times are when the events on either side were logged.
	if !strings.Contains(b.String(), "2026-11-24T14:11:58.552Z") || !strings.Contains(b.String(), "2026-11-24T14:22:00.005Z") ||
		!strings.Contains(b.String(), "10m1.453s") || !strings.Contains(b.String(), "1 gap of at least 1m0s among 6241 events") {
		t.Fatalf("output:\n%s", b.String())
	}
	b.Reset()
	if n, _ := writeGaps(&b, sess.store, v, ids, 20*time.Minute, true); n != 0 || !strings.Contains(b.String(), "0 gaps of at least 20m0s") {
		t.Fatalf("with a 20m floor: %d\n%s", n, b.String())
	}
	b.Reset()
	if n, _ := writeGaps(&b, sess.store, v, ids[:5], 0, true); n != 0 || !strings.Contains(b.String(), "too few") {
		t.Fatalf("5 events: %d\n%s", n, b.String())
	}
}
