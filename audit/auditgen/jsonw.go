package auditgen

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendStr appends s as a JSON string. It escapes like encoding/json
// (and the API server): control characters, quotes, backslashes, the HTML
// characters <, > and &, and U+2028/U+2029. Invalid UTF-8 becomes U+FFFD.
func appendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendStrBytes is appendStr for a byte slice.
func appendStrBytes(dst, s []byte) []byte { return appendStr(dst, string(s)) }

// appendKV appends `,"key":"value"` (or without the comma when first).
func appendKV(dst []byte, first bool, key, val string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendStr(dst, val)
}

// appendInt appends a decimal integer.
func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// appendHex appends n random lowercase hex digits.
func appendHex(dst []byte, r *rng, n int) []byte {
	for n > 0 {
		x := r.u64()
		for i := 0; i < 16 && n > 0; i++ {
			dst = append(dst, hexDigits[x&0xf])
			x >>= 4
			n--
		}
	}
	return dst
}

// randHex returns n random lowercase hex digits.
func randHex(r *rng, n int) string { return string(appendHex(nil, r, n)) }

// appendUUID appends a random version-4 UUID in canonical text form.
func appendUUID(dst []byte, r *rng) []byte {
	a, b := r.u64(), r.u64()
	a = a&^0xf000 | 0x4000                         // version 4
	b = b&^0xc000000000000000 | 0x8000000000000000 // variant 10
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(a >> (56 - 8*i))
		raw[8+i] = byte(b >> (56 - 8*i))
	}
	for i, x := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return dst
}

// newUUID returns a random version-4 UUID string.
func newUUID(r *rng) string { return string(appendUUID(nil, r)) }

// lowerAlnum is the alphabet of Kubernetes' random name suffixes.
const lowerAlnum = "bcdfghjklmnpqrstvwxz2456789"

// randSuffix returns n characters like the ones the API server appends to
// generateName.
func randSuffix(r *rng, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = lowerAlnum[r.intn(len(lowerAlnum))]
	}
	return string(b)
}

// appendB64 appends the standard base64 encoding of src.
func appendB64(dst, src []byte) []byte { return base64.StdEncoding.AppendEncode(dst, src) }

// appendRandB64 appends the base64 encoding of n random bytes.
func appendRandB64(dst []byte, r *rng, n int) []byte {
	var buf [48]byte
	for n > 0 {
		k := min(n, len(buf))
		for i := 0; i < k; i++ {
			buf[i] = byte(r.u64())
		}
		// Chunks are multiples of 3 bytes except the last, so the
		// concatenation is one valid encoding.
		dst = base64.StdEncoding.AppendEncode(dst, buf[:k])
		n -= k
	}
	return dst
}

// micros converts t to microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// civil converts days since 1970-01-01 to a proleptic Gregorian date.
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// appendDigits appends v zero-padded to width digits.
func appendDigits(dst []byte, v int64, width int) []byte {
	var b [20]byte
	i := len(b)
	for ; width > 0 || v > 0; width-- {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[i:]...)
}

// appendDateTime appends "YYYY-MM-DDTHH:MM:SS" for sec since the epoch.
func appendDateTime(dst []byte, sec int64) []byte {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	dst = appendDigits(dst, y, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, m, 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, rem/3600, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, rem/60%60, 2)
	dst = append(dst, ':')
	return appendDigits(dst, rem%60, 2)
}

// appendMicroTime appends a quoted RFC 3339 time with six fractional
// digits, the form of metav1.MicroTime ("2026-11-25T20:26:50.257454Z").
func appendMicroTime(dst []byte, us int64) []byte {
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		frac += 1e6
		sec--
	}
	dst = append(dst, '"')
	dst = appendDateTime(dst, sec)
	dst = append(dst, '.')
	dst = appendDigits(dst, frac, 6)
	return append(dst, 'Z', '"')
}

// appendTime appends a quoted RFC 3339 time at second precision, the form
// of metav1.Time ("2026-11-25T20:26:50Z").
func appendTime(dst []byte, us int64) []byte {
	sec := us / 1e6
	if us < 0 && us%1e6 != 0 {
		sec--
	}
	dst = append(dst, '"')
	dst = appendDateTime(dst, sec)
	return append(dst, 'Z', '"')
}

// durationString formats µs like time.Duration.String.
func durationString(us int64) string { return (time.Duration(us) * time.Microsecond).String() }
