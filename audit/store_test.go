package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func evAt(id string, sec int, verb string) string {
	return fmt.Sprintf(`{"auditID":%q,"stage":"ResponseComplete","verb":%q,"requestReceivedTimestamp":"2026-11-25T10:%02d:%02dZ"}`, id, verb, sec/60, sec%60)
}

func times(s *Store) []int64 {
	v := s.View()
	out := make([]int64, v.Len())
	for i := range out {
		out[i] = v.At(i).Time
	}
	return out
}

func isSorted(ts []int64) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i] < ts[i-1] {
			return false
		}
	}
	return true
}

func TestRecSize(t *testing.T) {
	if n := unsafe.Sizeof(Rec{}); n > 88 {
		t.Fatalf("Rec is %d bytes; the index budget is 100 B/event including the order slot", n)
	}
}

func TestLateEventsSortedAndDuplicatesDropped(t *testing.T) {
	s := NewStore()
	// Completion order: slightly out of order within a batch, and a whole
	// batch of earlier events arriving late (another API server's file).
	batches := [][]string{
		{evAt("a", 10, "get"), evAt("b", 5, "get"), evAt("c", 20, "get")},
		{evAt("d", 30, "get"), evAt("e", 25, "get")},
		{evAt("f", 1, "list"), evAt("g", 15, "list"), evAt("h", 40, "list")},
		// A re-sent batch: identical events are dropped and counted.
		{evAt("d", 30, "get"), evAt("e", 25, "get")},
		// Same auditID and stage, different bytes: both kept.
		{evAt("d", 30, "patch")},
	}
	for i, b := range batches {
		data := strings.Join(b, "\n") + "\n"
		seg := newMemSeg(fmt.Sprintf("b%d", i), []byte(data))
		l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{})
		if err := l.Load(context.Background(), int64(len(data)), true); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 9 || s.Duplicates() != 2 {
		t.Fatalf("len %d dups %d, want 9 and 2", s.Len(), s.Duplicates())
	}
	if ts := times(s); !isSorted(ts) {
		t.Fatalf("not sorted: %v", ts)
	}
	v := s.View()
	if got := s.Str(v.At(0).Verb); got != "list" {
		t.Errorf("first event verb %q, want the late list at :01", got)
	}
	if v.Generation == 0 {
		t.Error("generation did not move although events were inserted before the end")
	}
}

func TestNoTimeSortedFirst(t *testing.T) {
	data := evAt("a", 10, "get") + "\n" + `{"auditID":"z","stage":"ResponseComplete","verb":"delete"}` + "\n"
	s, _ := loadBytes(t, "x", []byte(data))
	r := s.View().At(0)
	if r.Flags&FlagNoTime == 0 || s.Str(r.Verb) != "delete" {
		t.Fatalf("first = %+v", r)
	}
}

func TestStoreRandomOrderMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewStore()
	seen := map[string]bool{}
	var all []int64
	for b := range 40 {
		var lines []string
		for range 1 + rng.IntN(300) {
			sec := rng.IntN(3600)
			id := fmt.Sprintf("id%d", rng.IntN(5000))
			ev := evAt(id, sec, "get")
			lines = append(lines, ev)
			if !seen[ev] {
				seen[ev] = true
				all = append(all, int64(sec))
			}
		}
		data := strings.Join(lines, "\n")
		seg := newMemSeg(fmt.Sprint(b), []byte(data))
		l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{})
		if err := l.Load(context.Background(), int64(len(data)), true); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != len(all) {
		t.Fatalf("len %d, want %d distinct events (dups %d)", s.Len(), len(all), s.Duplicates())
	}
	if !isSorted(times(s)) {
		t.Fatal("not sorted")
	}
}

func TestConcurrentReadersSeeConsistentPrefix(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := s.View()
				prev := int64(-1 << 63)
				for i := range v.Len() {
					r := v.At(i)
					if r.Time < prev || r.Flags&FlagDup != 0 {
						t.Errorf("inconsistent view at %d", i)
						return
					}
					prev = r.Time
					if _, err := s.Raw(r, nil); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for b := range 200 {
		var lines []string
		for k := range 50 {
			lines = append(lines, evAt(fmt.Sprintf("x%d-%d", b, k), (b*7+k*13)%3600, "get"))
		}
		data := strings.Join(lines, "\n")
		seg := newMemSeg(fmt.Sprint(b), []byte(data))
		l := NewLoader(s, s.AddSegment(seg), seg, LoaderOptions{Workers: 2, ChunkSize: 512})
		if err := l.Load(context.Background(), int64(len(data)), true); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if s.Len() != 200*50 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestSearchAndEachID(t *testing.T) {
	var lines []string
	for i := range 100 {
		lines = append(lines, evAt(fmt.Sprint(i), i*10, "get"))
	}
	s, _ := loadBytes(t, "x", []byte(strings.Join(lines, "\n")))
	v := s.View()
	t0 := v.At(0).Time
	if p := v.Search(t0 + 55e9); p != 6 {
		t.Errorf("Search = %d, want 6", p)
	}
	n := 0
	v.EachID(10, 20, func(pos int, id uint32) bool { n++; return pos < 14 })
	if n != 5 {
		t.Errorf("EachID visited %d, want 5", n)
	}
}
