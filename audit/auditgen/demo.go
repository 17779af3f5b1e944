package auditgen

import (
	_ "embed"
	"io"
	"time"
)

//go:generate go run ./gendemo

// demoGz is the demo dataset written by WriteDemo, gzip-compressed.
//
//go:embed demo.jsonl.gz
var demoGz []byte

// Demo returns the embedded demo dataset: the gzip-compressed JSON lines
// that WriteDemo writes (see DEMO.md for the incident hidden in it). The
// returned slice must not be modified.
func Demo() []byte { return demoGz }

// WriteDemo writes the demo dataset as JSON lines: three hours of normal
// traffic (2026-11-24 12:00 to 15:00 UTC, about 6,200 events) of a
// 15-node cluster with an incident in it: reconnaissance from
// 203.0.113.45, a leaked CI token reading secrets, a cluster-admin
// backdoor binding, execs, a privileged pod, deleted events and a
// ten-minute audit gap. The output is the same on every run.
func WriteDemo(w io.Writer) error {
	start, end, gapFrom, gapTo := demoWindow()
	g := New(Config{Seed: demoSeed, Rate: demoRate, Start: time.UnixMicro(start).UTC()})
	g.gapFrom, g.gapTo = gapFrom, gapTo
	g.injectStory()
	var buf []byte
	for g.peek() < end {
		buf = g.Next(buf)
		buf = append(buf, '\n')
		if len(buf) >= 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}
