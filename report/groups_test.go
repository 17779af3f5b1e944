package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func ns(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

var testGroups = []Group{
	{Values: []string{"alice", "get"}, Count: 1200, First: ns("2026-11-25T10:00:00.123456Z"), Last: ns("2026-11-25T11:30:00Z")},
	{Values: []string{"=evil()", "delete"}, Count: 3, First: ns("2026-11-25T10:05:00Z"), Last: ns("2026-11-25T10:06:00Z")},
	{Values: []string{"", "list"}, Count: 7},
}

func writeGroups(t *testing.T, f Format, keys []string, groups []Group, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteGroups(&buf, f, keys, groups, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestWriteGroups(t *testing.T) {
	keys := []string{"user", "verb"}
	cases := []struct {
		f    Format
		want string
	}{
		{FormatTable, `USER     VERB    COUNT  FIRST                     LAST
alice    get      1200  2026-11-25T10:00:00.123Z  2026-11-25T11:30:00.000Z
=evil()  delete      3  2026-11-25T10:05:00.000Z  2026-11-25T10:06:00.000Z
         list        7
`},
		{FormatCSV, `user,verb,count,first,last
alice,get,1200,2026-11-25T10:00:00.123456Z,2026-11-25T11:30:00Z
'=evil(),delete,3,2026-11-25T10:05:00Z,2026-11-25T10:06:00Z
,list,7,,
`},
		{FormatJSONL, `{"user":"alice","verb":"get","count":1200,"first":"2026-11-25T10:00:00.123456Z","last":"2026-11-25T11:30:00Z"}
{"user":"=evil()","verb":"delete","count":3,"first":"2026-11-25T10:05:00Z","last":"2026-11-25T10:06:00Z"}
{"user":"","verb":"list","count":7,"first":null,"last":null}
`},
		{FormatJSON, `[
{"user":"alice","verb":"get","count":1200,"first":"2026-11-25T10:00:00.123456Z","last":"2026-11-25T11:30:00Z"},
{"user":"=evil()","verb":"delete","count":3,"first":"2026-11-25T10:05:00Z","last":"2026-11-25T10:06:00Z"},
{"user":"","verb":"list","count":7,"first":null,"last":null}
]
`},
	}
	for _, c := range cases {
		got := writeGroups(t, c.f, keys, testGroups, Options{UTC: true})
		if got != c.want {
			t.Errorf("%v:\n%s\nwant:\n%s", c.f, got, c.want)
		}
	}
	empty := map[Format]string{FormatTable: "", FormatCSV: "user,verb,count,first,last\n", FormatJSONL: "", FormatJSON: "[]\n"}
	for f, want := range empty {
		if got := writeGroups(t, f, keys, nil, Options{}); got != want {
			t.Errorf("%v, no groups: %q, want %q", f, got, want)
		}
	}
}

func TestWriteGroupsEscapes(t *testing.T) {
	groups := []Group{{Values: []string{hostile, "x"}, Count: 1}, {Values: []string{strings.Repeat("n", 70), "@x"}, Count: 2}}
	keys := []string{"name", "userAgent"}
	tbl := writeGroups(t, FormatTable, keys, groups, Options{})
	if err := terminalSafe(tbl); err != nil {
		t.Errorf("table: %v in %q", err, tbl)
	}
	if !strings.Contains(tbl, strings.Repeat("n", 39)+"…") {
		t.Errorf("long name not cut to the name column's 40 cells:\n%s", tbl)
	}
	c := writeGroups(t, FormatCSV, keys, groups, Options{})
	if err := terminalSafe(c); err != nil {
		t.Errorf("csv: %v in %q", err, c)
	}
	recs, err := csv.NewReader(strings.NewReader(c)).ReadAll()
	if err != nil || len(recs) != 3 || recs[2][1] != "'@x" {
		t.Errorf("csv: %q %v", recs, err)
	}
	for _, f := range []Format{FormatJSON, FormatJSONL} {
		j := writeGroups(t, f, keys, groups, Options{})
		if err := terminalSafe(j); err != nil {
			t.Errorf("%v: %v in %q", f, err, j)
		}
		dec := json.NewDecoder(strings.NewReader(j))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Errorf("%v: %v", f, err)
		}
	}
	var got []map[string]any
	json.Unmarshal([]byte(writeGroups(t, FormatJSON, keys, groups, Options{})), &got)
	if len(got) != 2 || got[0]["name"] != hostile {
		t.Errorf("JSON does not carry the value exactly: %q", got)
	}
}

func TestWriteGroupsErrors(t *testing.T) {
	var buf bytes.Buffer
	for _, c := range []struct {
		keys   []string
		groups []Group
	}{
		{nil, nil},
		{[]string{"user", "User"}, nil},
		{[]string{"count"}, nil},
		{[]string{"user"}, []Group{{Values: []string{"a", "b"}}}},
	} {
		err := WriteGroups(&buf, FormatJSON, c.keys, c.groups, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("%v: %v", c.keys, err)
		}
	}
	if err := WriteGroups(&buf, Format(9), []string{"user"}, nil, Options{}); err == nil {
		t.Error("unknown format accepted")
	}
}
