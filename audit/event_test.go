package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// TestEventMatchesAPIServerTypes decodes the real recording with both our
// Event and the API server's own type and compares the fields.
func TestEventMatchesAPIServerTypes(t *testing.T) {
	f, err := os.Open("../testdata/kube-apiserver-v1.37/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		e, err := DecodeEvent(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var ref auditv1.Event
		if err := json.Unmarshal(sc.Bytes(), &ref); err != nil {
			t.Fatal(err)
		}
		tm, ok := e.Time()
		if !ok || !tm.Equal(ref.RequestReceivedTimestamp.Time) || e.Latency() != ref.StageTimestamp.Sub(ref.RequestReceivedTimestamp.Time) {
			t.Errorf("time %v/%v latency %v", tm, ref.RequestReceivedTimestamp, e.Latency())
		}
		if e.AuditID != string(ref.AuditID) || e.Verb != ref.Verb || e.User.Username != ref.User.Username || e.Stage != string(ref.Stage) || e.Level != string(ref.Level) {
			t.Errorf("fields differ for %s", e.AuditID)
		}
		if (ref.ObjectRef == nil) != (e.ObjectRef == nil) || (ref.ObjectRef != nil && (e.ObjectRef.Resource != ref.ObjectRef.Resource || e.ObjectRef.Name != ref.ObjectRef.Name)) {
			t.Errorf("objectRef differs for %s", e.AuditID)
		}
		if ref.ResponseStatus != nil && e.ResponseStatus.Code != int(ref.ResponseStatus.Code) {
			t.Errorf("code differs for %s", e.AuditID)
		}
		if ref.RequestObject != nil && len(ref.RequestObject.Raw) > 0 && len(e.RequestObject) == 0 {
			t.Errorf("requestObject lost for %s", e.AuditID)
		}
		n++
	}
	if n != 228 {
		t.Fatalf("decoded %d events", n)
	}
}

func TestEventV1beta1Time(t *testing.T) {
	e, err := DecodeEvent([]byte(evV1beta1))
	if err != nil {
		t.Fatal(err)
	}
	tm, ok := e.Time()
	if !ok || !tm.Equal(time.Date(2017, 9, 11, 19, 55, 5, 0, time.UTC)) || e.EffectiveUser() != "bob" || e.Metadata == nil {
		t.Fatalf("time %v ok %v user %q", tm, ok, e.EffectiveUser())
	}
}
