package history

import (
	"context"
	"sort"
	"strconv"
	"time"

	"ktrail/audit"
	"ktrail/report"
	"ktrail/tui/timeline"
)

// Stage is one stage event of a request.
type Stage struct {
	ID    uint32
	Stage string
	At    int64         // stageTimestamp (Unix ns); 0 when absent
	Since time.Duration // from requestReceivedTimestamp; 0 when unknown
	Code  int
}

// Request is every stage of one request (one auditID) joined.
type Request struct {
	AuditID    string
	Verb, URI  string
	User       string
	Groups     []string
	ImpUser    string
	SourceIPs  []string
	UserAgent  string
	Object     string // RESOURCE[/SUB] NAMESPACE/NAME as far as known
	Level      string
	Received   int64 // Unix ns; 0 when absent
	Stages     []Stage
	Code       int
	Reason     string
	Message    string
	Decision   string
	AuthReason string
	Annots     map[string]string // every annotation of every stage
	ReqBody    int               // bytes of requestObject (after redaction); 0 none
	RespBody   int
}

// Latency is the time from the request's arrival to its last stage.
func (q *Request) Latency() time.Duration {
	if len(q.Stages) == 0 {
		return 0
	}
	return q.Stages[len(q.Stages)-1].Since
}

// RequestIDs returns the events of v with the auditID hash of event id,
// in the view's order. It scans the index (a few ms per million events),
// so stages logged at different event times are found too.
func RequestIDs(ctx context.Context, v *audit.View, id uint32) ([]uint32, error) {
	h := v.Rec(id).AuditID
	var out []uint32
	var err error
	v.EachID(0, v.Len(), func(pos int, x uint32) bool {
		if pos&(1<<16-1) == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		if v.Rec(x).AuditID == h {
			out = append(out, x)
		}
		return true
	})
	return out, err
}

// JoinRequest reads the events ids (the stages of one request) and joins
// them. Events whose auditID differs from the first one's (a hash
// collision) are left out.
func JoinRequest(s *audit.Store, v *audit.View, ids []uint32, redact bool) (*Request, error) {
	q := &Request{Annots: map[string]string{}}
	var raw []byte
	for _, id := range ids {
		r := v.Rec(id)
		b, err := s.Raw(r, raw[:0])
		if err != nil {
			return nil, err
		}
		raw = b
		if redact {
			if b, _, err = report.RedactAuto(b); err != nil {
				return nil, err
			}
		}
		e, err := audit.DecodeEvent(b)
		if err != nil {
			return nil, err
		}
		if q.AuditID == "" {
			q.fill(e)
		} else if e.AuditID != q.AuditID {
			continue
		}
		st := Stage{ID: id, Stage: e.Stage}
		if t, ok := audit.ParseTime([]byte(e.StageTimestamp)); ok {
			st.At = t
			if q.Received != 0 {
				st.Since = time.Duration(t - q.Received)
			}
		}
		if e.ResponseStatus != nil && e.ResponseStatus.Code != 0 {
			st.Code = e.ResponseStatus.Code
			q.Code, q.Reason, q.Message = st.Code, e.ResponseStatus.Reason, e.ResponseStatus.Message
		}
		for k, v := range e.Annotations {
			q.Annots[k] = v
		}
		if n := bodyLen(e.RequestObject); n > 0 {
			q.ReqBody = n
		}
		if n := bodyLen(e.ResponseObject); n > 0 {
			q.RespBody = n
		}
		q.Stages = append(q.Stages, st)
	}
	sort.SliceStable(q.Stages, func(i, j int) bool { return stageOrder(q.Stages[i]) < stageOrder(q.Stages[j]) })
	q.Decision = q.Annots["authorization.k8s.io/decision"]
	q.AuthReason = q.Annots["authorization.k8s.io/reason"]
	return q, nil
}

func bodyLen(b []byte) int {
	if string(b) == "null" {
		return 0
	}
	return len(b)
}

// stageOrder sorts stages by time, then in the order the API server
// emits them.
func stageOrder(s Stage) int64 {
	rank := map[string]int64{"RequestReceived": 0, "ResponseStarted": 1, "ResponseComplete": 2, "Panic": 3}[s.Stage]
	return s.At*4 + rank
}

func (q *Request) fill(e *audit.Event) {
	q.AuditID, q.Verb, q.URI, q.Level = e.AuditID, e.Verb, e.RequestURI, e.Level
	q.User, q.Groups = e.User.Username, e.User.Groups
	if e.ImpersonatedUser != nil {
		q.ImpUser = e.ImpersonatedUser.Username
	}
	q.SourceIPs, q.UserAgent = e.SourceIPs, e.UserAgent
	if o := e.ObjectRef; o != nil {
		q.Object = o.Resource
		if o.Subresource != "" {
			q.Object += "/" + o.Subresource
		}
		if o.Namespace != "" || o.Name != "" {
			q.Object += " " + o.Namespace
			if o.Namespace != "" && o.Name != "" {
				q.Object += "/"
			}
			q.Object += o.Name
		}
	}
	if t, ok := audit.ParseTime([]byte(e.RequestReceivedTimestamp)); ok {
		q.Received = t
	}
}

// Count is a value and how many events had it.
type Count struct {
	Value string
	N     int
}

// Bucket is one time bucket of a user's activity.
type Bucket struct {
	From   int64 // Unix ns
	Total  int
	Verbs  map[string]int
	Denied int // 401 and 403
	Errors int // other 4xx and 5xx
}

// Activity is what one user did over time.
type Activity struct {
	User        string
	Total       int
	First, Last int64
	Step        time.Duration
	Buckets     []Bucket // only buckets with events, oldest first
	Verbs       []Count  // most frequent first
	Resources   []Count
	Namespaces  []Count
	SourceIPs   []Count
	UserAgents  []Count
	Denied      int
	Errors      int
}

// UserActivity summarises the events ids (sorted like v) per time bucket
// and verb. The bucket is an hour when the events span more than a day,
// else the nice step that gives at most 48 buckets (at least a minute).
func UserActivity(s *audit.Store, v *audit.View, ids []uint32, user string) Activity {
	a := Activity{User: user}
	first, last, ok := timeline.Bounds(v, timeline.IDs(ids))
	if !ok {
		return a
	}
	a.First, a.Last = first, last
	step := timeline.NiceStep(first, last+1, 48)
	step = max(step, int64(time.Minute))
	if last-first > int64(24*time.Hour) {
		step = int64(time.Hour)
	}
	a.Step = time.Duration(step)
	verbs, res, nss, ips, uas := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	at := map[int64]int{}
	for _, id := range ids {
		r := v.Rec(id)
		a.Total++
		verb := s.Str(r.Verb)
		verbs[verb]++
		res[resourceOf(s, r)]++
		nss[s.Str(r.NS)]++
		ips[s.Str(r.SourceIP)]++
		uas[s.Str(r.UA)]++
		denied := r.Code == 401 || r.Code == 403
		failed := r.Code >= 400 && !denied
		if denied {
			a.Denied++
		}
		if failed {
			a.Errors++
		}
		if r.Flags&audit.FlagNoTime != 0 {
			continue
		}
		from := r.Time - ((r.Time%step)+step)%step
		i, ok := at[from]
		if !ok {
			i = len(a.Buckets)
			at[from] = i
			a.Buckets = append(a.Buckets, Bucket{From: from, Verbs: map[string]int{}})
		}
		b := &a.Buckets[i]
		b.Total++
		b.Verbs[verb]++
		if denied {
			b.Denied++
		}
		if failed {
			b.Errors++
		}
	}
	sort.Slice(a.Buckets, func(i, j int) bool { return a.Buckets[i].From < a.Buckets[j].From })
	a.Verbs, a.Resources, a.Namespaces = counts(verbs), counts(res), counts(nss)
	a.SourceIPs, a.UserAgents = counts(ips), counts(uas)
	return a
}

func resourceOf(s *audit.Store, r *audit.Rec) string {
	res := s.Str(r.Resource)
	if sub := s.Str(r.Subres); sub != "" {
		res += "/" + sub
	}
	return res
}

// counts sorts a tally, most frequent first, then by value.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// fmtDur prints a duration compactly: 850µs, 12ms, 1.25s, 2m5s.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return d.Round(time.Second).String()
}
