package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"ktrail/audit"
)

// SessionVersion is the version of the session file format that this
// package writes and the newest it reads.
const SessionVersion = 1

// maxSessionSize bounds the session files LoadSession reads.
const maxSessionSize = 64 << 20

// Session is what an investigation keeps between runs: the input it was
// opened on, the filter and time window, and the marked events with the
// investigator's notes. The TUI writes it and `ktrail report --session`
// reads it. It is stored as JSON:
//
//	{"version":1,"input":"audit.log","filter":"verb == \"delete\"",
//	 "from":"2026-11-25T10:00:00Z","to":"","marks":[{"auditID":"…",
//	 "stage":"ResponseComplete","time":"2026-11-25T10:00:01.5Z","note":"…"}]}
type Session struct {
	// Version is the format version; 0 is taken as 1.
	Version int `json:"version"`
	// Input is the path the session was opened on (informational; the
	// report command reads it when no PATH is given).
	Input string `json:"input,omitempty"`
	// Filter is the filter expression.
	Filter string `json:"filter,omitempty"`
	// From and To are the time window as --since and --until take it: a
	// duration before now (1h, 2d) or an RFC 3339 time; empty is open.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Marks are the marked events.
	Marks []SessionMark `json:"marks,omitempty"`
}

// SessionMark names a marked event by its auditID, stage and time, which
// survive re-reading and re-indexing the input (record ids do not), and
// holds the investigator's note.
type SessionMark struct {
	AuditID string    `json:"auditID"`
	Stage   string    `json:"stage"`
	Time    time.Time `json:"time"`
	Note    string    `json:"note,omitempty"`
}

// LoadSession reads a session file.
func LoadSession(path string) (*Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: session: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSessionSize+1))
	if err != nil {
		return nil, fmt.Errorf("report: session %s: %w", audit.Sanitize(path), err)
	}
	if len(data) > maxSessionSize {
		return nil, fmt.Errorf("report: session %s: larger than %d MiB", audit.Sanitize(path), maxSessionSize>>20)
	}
	s, err := ParseSession(data)
	if err != nil {
		return nil, fmt.Errorf("report: session %s: %w", audit.Sanitize(path), errors.Unwrap(err))
	}
	return s, nil
}

// ParseSession decodes a session from its JSON and checks it.
func ParseSession(data []byte) (*Session, error) {
	var s Session
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("report: session: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("report: session: %w", errors.New("unexpected data after the JSON object"))
	}
	if s.Version > SessionVersion {
		return nil, fmt.Errorf("report: session: %w", fmt.Errorf("version %d is newer than this ktrail reads (%d)", s.Version, SessionVersion))
	}
	for i, m := range s.Marks {
		if m.AuditID == "" {
			return nil, fmt.Errorf("report: session: %w", fmt.Errorf("mark %d has no auditID", i+1))
		}
	}
	if s.Version == 0 {
		s.Version = SessionVersion
	}
	return &s, nil
}

// Save writes the session to path as indented JSON, atomically and with
// mode 0600, replacing the file if it exists.
func (s *Session) Save(path string) error {
	out := *s
	out.Version = SessionVersion
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("report: session: %w", err)
	}
	data = append(data, '\n')
	return WriteFileAtomic(path, true, func(w io.Writer) error {
		_, err := w.Write(data)
		return writeErr(err)
	})
}

// MarkFor returns the session mark of the event r of s, with a note.
func MarkFor(s *audit.Store, r *audit.Rec, note string) (SessionMark, error) {
	raw, err := s.Raw(r, nil)
	if err != nil {
		return SessionMark{}, fmt.Errorf("report: %w", err)
	}
	id, err := auditIDOf(raw)
	if err != nil {
		return SessionMark{}, err
	}
	m := SessionMark{AuditID: id, Stage: r.Stage.String(), Note: note}
	if r.Flags&audit.FlagNoTime == 0 {
		m.Time = time.Unix(0, r.Time).UTC()
	}
	return m, nil
}

// auditIDOf reads the auditID (for a GKE LogEntry, the operation id or
// insertId) of one event's raw bytes.
func auditIDOf(raw []byte) (string, error) {
	var f audit.Fields
	if err := audit.Extract(raw, &f); err != nil {
		return "", fmt.Errorf("report: reading the auditID: %w", err)
	}
	return string(audit.Unescape(nil, f.AuditID)), nil
}

// ResolveMarks finds the events that the session's marks name in v, a
// view of st, and returns them with their notes; marks whose event is not
// there are returned in missing. Both keep the order of s.Marks.
func (s *Session) ResolveMarks(st *audit.Store, v *audit.View) (marks []Mark, missing []SessionMark) {
	for _, m := range s.Marks {
		if id, ok := findMark(st, v, m); ok {
			marks = append(marks, Mark{ID: id, Note: m.Note})
		} else {
			missing = append(missing, m)
		}
	}
	return marks, missing
}

// findMark looks for the event of m among those with its exact time.
func findMark(st *audit.Store, v *audit.View, m SessionMark) (uint32, bool) {
	var ns int64
	if !m.Time.IsZero() {
		ns = m.Time.UnixNano()
	}
	stage := audit.ParseStage([]byte(m.Stage))
	hash := audit.HashID([]byte(m.AuditID))
	var raw []byte
	for pos := v.Search(ns); pos < v.Len(); pos++ {
		id := v.ID(pos)
		r := v.Rec(id)
		if r.Time != ns {
			break
		}
		if r.Stage != stage || (m.Time.IsZero() != (r.Flags&audit.FlagNoTime != 0)) {
			continue
		}
		if r.AuditID == hash {
			return id, true
		}
		// The index hashes the auditID as written, escapes and all.
		var err error
		if raw, err = st.Raw(r, raw[:0]); err != nil {
			continue
		}
		if got, err := auditIDOf(raw); err == nil && got == m.AuditID {
			return id, true
		}
	}
	return 0, false
}

// String describes the mark in one line, for messages.
func (m SessionMark) String() string {
	var b strings.Builder
	b.WriteString("auditID ")
	b.WriteString(audit.Sanitize(m.AuditID))
	if m.Stage != "" {
		b.WriteString(" stage " + audit.Sanitize(m.Stage))
	}
	if !m.Time.IsZero() {
		b.WriteString(" at " + m.Time.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}
