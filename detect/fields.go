package detect

import (
	"encoding/binary"

	"ktrail/audit"
	"ktrail/filters"
)

// field reads one groupBy or distinct field of an event as a key: the
// fields of the index (interned strings, code, enums, the auditID hash)
// without touching the event's bytes, the others through filters.Value.
type field struct {
	name string
	fast func(r *audit.Rec) uint64 // nil for fields read from the raw event
}

// newField returns the accessor of a vocabulary field (checked by
// ParseRules or Validate).
func newField(name string) field {
	f := field{name: name}
	switch name {
	case "user":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.User) }
	case "groups":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Groups) }
	case "impersonatedUser":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.ImpUser) }
	case "effectiveUser":
		f.fast = func(r *audit.Rec) uint64 {
			if r.ImpUser != 0 {
				return uint64(r.ImpUser)
			}
			return uint64(r.User)
		}
	case "verb":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Verb) }
	case "resource":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Resource) }
	case "subresource":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Subres) }
	case "namespace", "ns":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.NS) }
	case "name":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Name) }
	case "apiGroup":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.APIGroup) }
	case "sourceIP":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.SourceIP) }
	case "userAgent":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.UA) }
	case "cluster":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Cluster) }
	case "code":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Code) }
	case "level":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Level) }
	case "stage":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Stage) }
	case "decision":
		f.fast = func(r *audit.Rec) uint64 { return uint64(r.Decision) }
	case "auditID":
		f.fast = func(r *audit.Rec) uint64 { return r.AuditID }
	}
	return f
}

// appendKey appends the field's key for r to dst: 8 bytes for an index
// field, else the value and a NUL. Events whose value cannot be read get
// the empty value (the failure is counted by the caller's filter anyway).
func (f field) appendKey(s *audit.Store, r *audit.Rec, dst []byte) []byte {
	if f.fast != nil {
		return binary.LittleEndian.AppendUint64(dst, f.fast(r))
	}
	v, _ := filters.Value(s, r, f.name)
	dst = append(dst, v...)
	return append(dst, 0)
}

// display returns the field's value of r as a person reads it.
func (f field) display(s *audit.Store, r *audit.Rec) string {
	v, err := filters.Value(s, r, f.name)
	if err != nil {
		return "?"
	}
	return v
}
