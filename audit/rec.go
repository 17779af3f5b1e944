package audit

import "unicode/utf8"

// Rec is the fixed-size index record of one event. Strings are interned
// ids (see Store.Str); the event's raw bytes stay in a segment at Loc.
type Rec struct {
	Time     int64  // event time in Unix ns; 0 when the event has none (FlagNoTime)
	Loc      uint64 // segment<<48 | byte offset of the event in the segment
	AuditID  uint64 // FNV-1a hash of the auditID
	Len      uint32 // length of the event's bytes
	Latency  float32
	User     uint32
	Groups   uint32 // interned raw JSON array of the user's groups
	ImpUser  uint32
	Verb     uint32
	Resource uint32
	Subres   uint32
	NS       uint32
	Name     uint32
	APIGroup uint32
	SourceIP uint32
	UA       uint32
	Cluster  uint32
	Code     uint16
	Stage    Stage
	Level    Level
	Decision Decision
	Flags    Flags
}

// Seg returns the segment that holds the event.
func (r *Rec) Seg() uint16 { return uint16(r.Loc >> 48) }

// Off returns the event's byte offset in its segment.
func (r *Rec) Off() int64 { return int64(r.Loc & (1<<48 - 1)) }

// MakeLoc packs a segment and an offset.
func MakeLoc(seg uint16, off int64) uint64 { return uint64(seg)<<48 | uint64(off) }

// Flags are per-event facts.
type Flags uint8

// The event flags.
const (
	FlagNoTime    Flags = 1 << iota // no usable time field
	FlagTruncated                   // annotated audit.k8s.io/truncated by the API server
	FlagGKE                         // normalised from a GKE Cloud Audit LogEntry
	FlagDup                         // a duplicate of an earlier event; not in the order
	FlagNoUser                      // the user member is absent or empty (a 401)
	FlagOddStage                    // stage or level has a value outside the enums
)

// Stage is the audit stage.
type Stage uint8

// The audit stages. StageOther is a value outside the known set.
const (
	StageNone Stage = iota
	StageRequestReceived
	StageResponseStarted
	StageResponseComplete
	StagePanic
	StageOther
)

var stageNames = [...]string{"", "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic", "?"}

func (s Stage) String() string { return stageNames[s] }

// Level is the audit level.
type Level uint8

// The audit levels.
const (
	LevelNone Level = iota
	LevelMetadata
	LevelRequest
	LevelRequestResponse
	LevelOther
)

var levelNames = [...]string{"", "Metadata", "Request", "RequestResponse", "?"}

func (l Level) String() string { return levelNames[l] }

// Decision is the authorization decision annotation.
type Decision uint8

// The authorization decisions.
const (
	DecisionNone Decision = iota
	DecisionAllow
	DecisionForbid
	DecisionOther
)

var decisionNames = [...]string{"", "allow", "forbid", "?"}

func (d Decision) String() string { return decisionNames[d] }

// ParseStage maps a stage name to its enum.
func ParseStage(b []byte) Stage {
	switch string(b) {
	case "":
		return StageNone
	case "ResponseComplete":
		return StageResponseComplete
	case "RequestReceived":
		return StageRequestReceived
	case "ResponseStarted":
		return StageResponseStarted
	case "Panic":
		return StagePanic
	}
	return StageOther
}

// ParseLevel maps a level name to its enum.
func ParseLevel(b []byte) Level {
	switch string(b) {
	case "":
		return LevelNone
	case "Metadata":
		return LevelMetadata
	case "Request":
		return LevelRequest
	case "RequestResponse":
		return LevelRequestResponse
	case "None":
		return LevelNone
	}
	return LevelOther
}

// ParseDecision maps a decision annotation to its enum.
func ParseDecision(b []byte) Decision {
	switch string(b) {
	case "":
		return DecisionNone
	case "allow":
		return DecisionAllow
	case "forbid":
		return DecisionForbid
	}
	return DecisionOther
}

// HashID hashes an auditID.
func HashID(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Field slots for LocalInterner.
const (
	slotUser = iota
	slotGroups
	slotImp
	slotVerb
	slotRes
	slotSub
	slotNS
	slotName
	slotGroup
	slotIP
	slotUA
	slotCluster
)

// BuildRec fills r from extracted fields. Strings are unescaped and
// interned through li.
func BuildRec(f *Fields, li *LocalInterner, r *Rec) {
	var scratch [256]byte
	str := func(slot int, b []byte) uint32 {
		if hasBackslash(b) {
			b = Unescape(scratch[:0], b)
		}
		return li.Intern(slot, b)
	}
	*r = Rec{
		User:     str(slotUser, f.User),
		Groups:   li.Intern(slotGroups, f.Groups),
		ImpUser:  str(slotImp, f.ImpUser),
		Verb:     str(slotVerb, f.Verb),
		Resource: str(slotRes, f.Resource),
		Subres:   str(slotSub, f.Subresource),
		NS:       str(slotNS, f.Namespace),
		Name:     str(slotName, f.Name),
		APIGroup: str(slotGroup, f.APIGroup),
		SourceIP: str(slotIP, f.SourceIP),
		UA:       str(slotUA, f.UserAgent),
		Code:     uint16(f.Code),
		Stage:    ParseStage(f.Stage),
		Level:    ParseLevel(f.Level),
		Decision: ParseDecision(f.Decision),
		AuditID:  HashID(f.AuditID),
	}
	recv, okR := ParseTime(f.Received)
	stage, okS := ParseTime(f.StageTS)
	switch {
	case okR:
		r.Time = recv
	case okS:
		r.Time = stage
	default:
		if t, ok := ParseTime(f.Timestamp); ok {
			r.Time = t
		} else {
			r.Flags |= FlagNoTime
		}
	}
	if okR && okS {
		r.Latency = float32(float64(stage-recv) / 1e9)
	}
	if f.Truncated {
		r.Flags |= FlagTruncated
	}
	if f.GKE {
		r.Flags |= FlagGKE
	}
	if len(f.User) == 0 {
		r.Flags |= FlagNoUser
	}
	if r.Stage == StageOther || r.Level == LevelOther {
		r.Flags |= FlagOddStage
	}
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// Unescape appends the decoded form of JSON string contents b to dst.
// Unlike encoding/json it keeps invalid UTF-8 bytes as they are, so that
// what an attacker wrote is what an investigator sees (escaped on output).
func Unescape(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			dst = append(dst, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := hex4(b[i+1:])
			if n == 0 {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += n
			if r >= 0xd800 && r < 0xdc00 && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if r2, n2 := hex4(b[i+3:]); n2 > 0 && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 + (r2 - 0xdc00) + 0x10000
					i += 2 + n2
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // \" \\ \/ and anything else: the byte itself
			dst = append(dst, b[i])
		}
	}
	return dst
}

func hex4(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}
