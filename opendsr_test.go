package dsar

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// TestOpenDSRDocExample parses the configuration of docs/connectors.md,
// "OpenDSR connector", as a system's connector block.
func TestOpenDSRDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "connectors.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## OpenDSR connector\n")
	_, example, ok2 := strings.Cut(section, "```yaml\n")
	example, _, ok3 := strings.Cut(example, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/connectors.md has no OpenDSR configuration example")
	}
	var m struct {
		Systems []struct {
			Connector map[string]any `yaml:"connector"`
		} `yaml:"systems"`
	}
	if err := yaml.Unmarshal([]byte(example), &m); err != nil || len(m.Systems) != 1 {
		t.Fatalf("the example: %v", err)
	}
	block, err := json.Marshal(m.Systems[0].Connector) // JSON is YAML's flow style
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseControllers("t.yaml", []byte(ctrlEdit(t, ctrlBaseYAML, ctrlManual, "connector: "+string(block))))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ := cs.Get("acme")
	want := Connector{Kind: ConnectorOpenDSR, OpenDSR: &OpenDSRConnector{URL: "https://opendsr.processor.example/v2",
		Token: Secret{Env: "ANALYTICS_OPENDSR_TOKEN"}, Certificate: "/etc/dsar/analytics-opendsr.pem"}}
	if diff := cmp.Diff(want, c.Systems[0].Connector); diff != "" {
		t.Errorf("connector (-want +got):\n%s", diff)
	}
}

// TestOpenDSRStatusOutcome maps each status, and refuses a body that is
// not a status of the request.
func TestOpenDSRStatusOutcome(t *testing.T) {
	id := OpenDSRRequestID("task-1")
	count := 3
	for _, tc := range []struct {
		in   OpenDSRStatus
		want TaskOutcome
	}{
		{OpenDSRStatus{SubjectRequestID: id, RequestStatus: OpenDSRPending},
			TaskOutcome{Kind: OutcomeAccepted, Answer: "OpenDSR pending"}},
		{OpenDSRStatus{SubjectRequestID: strings.ToUpper(id), RequestStatus: OpenDSRCompleted, ResultsCount: &count, ResultsURL: "https://p.example/r"},
			TaskOutcome{Kind: OutcomeDone, Count: 3, External: "https://p.example/r", Answer: "OpenDSR completed (3 results)"}},
		{OpenDSRStatus{SubjectRequestID: id, RequestStatus: OpenDSRCompleted},
			TaskOutcome{Kind: OutcomeDone, Answer: "OpenDSR completed"}},
		{OpenDSRStatus{SubjectRequestID: id, RequestStatus: OpenDSRCancelled},
			TaskOutcome{Kind: OutcomeFailed, Answer: "OpenDSR cancelled by the processor"}},
	} {
		got, err := tc.in.Outcome(id)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%s: %+v, %v", tc.in.RequestStatus, got, err)
		}
	}
	negative := -1
	_, err := (&OpenDSRStatus{SubjectRequestID: OpenDSRRequestID("task-2"), RequestStatus: "done", ExpectedCompletionTime: "tomorrow",
		ResultsURL: "javascript:alert(1)", ResultsCount: &negative}).Outcome(id)
	var fields []string
	if de, ok := err.(*Error); ok {
		for _, f := range de.Fields {
			fields = append(fields, f.Field+":"+f.Message)
		}
	}
	want := []string{"subject_request_id:field.opendsr_mismatch", "request_status:field.enum", "expected_completion_time:field.timestamp",
		"results_url:field.url", "results_count:field.not_negative"}
	if !cmp.Equal(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}

// TestVerifyOpenDSRWithAnECKey: a processor whose certificate has an EC
// key signs with ECDSA over SHA-256.
func TestVerifyOpenDSRWithAnECKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "p.example"}, DNSNames: []string{"p.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseOpenDSRCertificate(append([]byte("junk\n"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"request_status":"pending"}`)
	sum := sha256.Sum256(body)
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(sig)
	if err := VerifyOpenDSR(cert, "p.example", b64, body); err != nil {
		t.Errorf("ECDSA: %v", err)
	}
	for _, tc := range []struct{ domain, sig string }{{"", b64}, {"p.example", ""}, {"p.example", "%%%"}, {"p.example", base64.StdEncoding.EncodeToString([]byte("x"))}} {
		if err := VerifyOpenDSR(cert, tc.domain, tc.sig, body); err == nil {
			t.Errorf("%q %q verified", tc.domain, tc.sig)
		}
	}
}
