package webhook

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// tokenSet holds the SHA-256 digests of the accepted bearer tokens and
// reads the token file again when it changes. Comparing fixed-size digests
// with subtle.ConstantTimeCompare, against every token without stopping
// at a match, reveals neither which token matched nor any token's length.
type tokenSet struct {
	mu     sync.Mutex
	path   string
	w      watch
	hashes [][sha256.Size]byte
	log    *logger
}

// loadTokens reads the token file; it is an error when it holds none.
func loadTokens(path string, log *logger) (*tokenSet, error) {
	ts := &tokenSet{path: path, log: log, w: watch{path: path, every: time.Second}}
	ts.w.changed()
	hashes, err := readTokens(path)
	if err != nil {
		return nil, fmt.Errorf("webhook: token file: %w", err)
	}
	if len(hashes) == 0 {
		return nil, fmt.Errorf("webhook: token file %s holds no token (one per line; blank lines and #comments are ignored)", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.printf("webhook: warning: token file %s is readable by other users (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	ts.hashes = hashes
	return ts, nil
}

// readTokens returns the digests of the tokens in the file.
func readTokens(path string) ([][sha256.Size]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][sha256.Size]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, sha256.Sum256([]byte(line)))
	}
	return out, sc.Err()
}

// current returns the digests, reading the file again when it changed. A
// file that became unreadable or empty refuses every token (fail closed)
// until it is fixed.
func (ts *tokenSet) current() [][sha256.Size]byte {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.w.changed() {
		return ts.hashes
	}
	hashes, err := readTokens(ts.path)
	switch {
	case err != nil:
		ts.log.printf("webhook: TOKEN FILE UNREADABLE, refusing every request until it is fixed: %s", sanitize(err.Error()))
		ts.hashes = nil
	case len(hashes) == 0:
		ts.log.printf("webhook: TOKEN FILE %s HOLDS NO TOKEN, refusing every request until it is fixed", ts.path)
		ts.hashes = nil
	default:
		ts.log.printf("webhook: token file %s reloaded: %d tokens", ts.path, len(hashes))
		ts.hashes = hashes
	}
	return ts.hashes
}

// check reports whether the Authorization header value carries one of the
// tokens.
func (ts *tokenSet) check(header string) bool {
	tok, ok := bearer(header)
	sum := sha256.Sum256([]byte(tok))
	match := 0
	for _, h := range ts.current() {
		match |= subtle.ConstantTimeCompare(sum[:], h[:])
	}
	return ok && match == 1
}

// bearer extracts the token of "Bearer <token>" (the scheme is matched
// without regard to case).
func bearer(h string) (string, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
