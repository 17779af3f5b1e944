package audit

import "time"

// ParseTime parses an RFC 3339 timestamp as the API server writes it
// ("2026-11-25T20:26:50.257454Z") and returns Unix nanoseconds. The common
// UTC form is parsed by hand; other valid forms fall back to the time
// package. ok is false for anything that is not RFC 3339.
func ParseTime(b []byte) (ns int64, ok bool) {
	if len(b) >= 20 && b[len(b)-1] == 'Z' && b[4] == '-' && b[7] == '-' &&
		(b[10] == 'T' || b[10] == 't') && b[13] == ':' && b[16] == ':' {
		if ns, ok := fastUTC(b); ok {
			return ns, true
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, false
	}
	return t.UnixNano(), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// fastUTC parses YYYY-MM-DDTHH:MM:SS[.fraction]Z.
func fastUTC(b []byte) (int64, bool) {
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	s, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 ||
		d > daysIn(mo, y) || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	frac := int64(0)
	rest := b[19 : len(b)-1]
	if len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return 0, false
		}
		f, ok := digits(rest[1:])
		if !ok {
			return 0, false
		}
		frac = int64(f)
		for k := len(rest) - 1; k < 9; k++ {
			frac *= 10
		}
	}
	days := daysFromCivil(y, mo, d)
	return (days*86400+int64(h)*3600+int64(mi)*60+int64(s))*1e9 + frac, true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 for a date in
// the proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
