package audit

// This file exports the raw JSON scanning primitives of scan.go and
// extract.go for the other packages that read event bytes (filters,
// report), so that there is one scanner. They are thin wrappers: offsets,
// errors (*SyntaxError) and leniency are those of the extractor.

// SkipWS returns the index of the first non-whitespace byte at or after i.
func SkipWS(b []byte, i int) int { return skipWS(b, i) }

// ScanString expects b[i] == '"' and returns the index of the closing
// quote, or a *SyntaxError if the string is unterminated. The contents
// are b[i+1:end], still escaped.
func ScanString(b []byte, i int) (end int, err error) { return scanString(b, i) }

// SkipValue skips the JSON value starting at b[i] (after whitespace) and
// returns the index just past it. Strings, numbers and literals are
// checked as the extractor checks them; objects and arrays only for
// matching brackets outside strings.
func SkipValue(b []byte, i int) (int, error) { return skipValue(b, i) }

// SkipNumber returns the index of the first byte at or after i that cannot
// be part of a JSON number (digits, '.', 'e', 'E', '+', '-'); it does not
// check the number's grammar.
func SkipNumber(b []byte, i int) int { return skipNumber(b, i) }

// Members walks the members of a JSON object:
//
//	var m Members
//	if err := m.Open(b, i); err != nil { ... }
//	for {
//		key, val, done, err := m.Next()
//		if err != nil || done { ... }
//		... m.Skip(val), m.Raw(val), or skip it yourself and m.Seek(end)
//	}
//
// Keys are raw (still escaped) sub-slices of b.
type Members struct{ it objIter }

// Open positions m inside the object starting at b[i] (after whitespace);
// it is an error when there is no object there.
func (m *Members) Open(b []byte, i int) error { return m.it.open(b, i) }

// Next returns the next member's raw key and the index where its value
// starts (after whitespace; len(b) when the input ends there). done is
// true after the closing brace, and Pos is then just past it. The value
// must be passed over (Skip, Raw or Seek) before Next is called again.
func (m *Members) Next() (key []byte, valStart int, done bool, err error) { return m.it.next() }

// Skip moves past the value starting at valStart.
func (m *Members) Skip(valStart int) error { return m.it.skip(valStart) }

// Raw returns the raw bytes of the value starting at valStart and moves
// past it.
func (m *Members) Raw(valStart int) ([]byte, error) { return m.it.raw(valStart) }

// Seek tells m that the current value ends at end, for callers that read
// or skipped the value themselves.
func (m *Members) Seek(end int) { m.it.i = end }

// Pos returns the index m has reached: just past the closing brace once
// Next has returned done.
func (m *Members) Pos() int { return m.it.i }
