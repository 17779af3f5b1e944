package auditgen

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// rawOf returns the raw JSON of an embedded object, or nil.
func rawOf(u *runtime.Unknown) []byte {
	if u == nil {
		return nil
	}
	return u.Raw
}

// codeName names an HTTP status code for the category table.
func codeName(code int) string { return strconv.Itoa(code) }

func TestAppendStrMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "plain", `quote " backslash \ slash /`, "tab\tnewline\ncr\r", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "line\u2028para\u2029", "émoji 🎉 ünïcode", "bad \xff utf8 \xc3",
		"\x1b[31mred\x1b[0m", "\x1b]52;c;ZXZpbA==\x07",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(20))
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendStr(nil, s); string(got) != string(want) {
			t.Errorf("appendStr(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestTimeFormats(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var tc timeCache
	for i := 0; i < 5000; i++ {
		us := r.Int64N(4_102_444_800_000_000) - 1_000_000_000_000
		tm := time.UnixMicro(us).UTC()
		want := `"` + tm.Format("2006-01-02T15:04:05.000000Z07:00") + `"`
		if got := string(appendMicroTime(nil, us)); got != want {
			t.Fatalf("appendMicroTime(%d) = %s, want %s", us, got, want)
		}
		if got := string(tc.appendMicro(nil, us)); got != want {
			t.Fatalf("timeCache.appendMicro(%d) = %s, want %s", us, got, want)
		}
		want = `"` + tm.Format(time.RFC3339) + `"`
		if got := string(appendTime(nil, us)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", us, got, want)
		}
	}
}

func TestUUIDs(t *testing.T) {
	r := newRNG(5)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := newUUID(&r)
		if len(u) != 36 || u[14] != '4' || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("malformed UUID %q", u)
		}
		if seen[u] {
			t.Fatalf("duplicate UUID %q", u)
		}
		seen[u] = true
	}
}
