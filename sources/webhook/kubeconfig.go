package webhook

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"

	"sigs.k8s.io/yaml"
)

// kubeconfig is the subset of a kubeconfig file that
// --audit-webhook-config-file reads.
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Users          []namedUser    `json:"users"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
}

type namedCluster struct {
	Name    string      `json:"name"`
	Cluster clusterInfo `json:"cluster"`
}

type clusterInfo struct {
	Server                   string `json:"server"`
	CertificateAuthority     string `json:"certificate-authority,omitempty"`
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
}

type namedUser struct {
	Name string   `json:"name"`
	User authInfo `json:"user"`
}

type authInfo struct {
	Token             string `json:"token,omitempty"`
	ClientCertificate string `json:"client-certificate,omitempty"`
	ClientKey         string `json:"client-key,omitempty"`
}

type namedContext struct {
	Name    string      `json:"name"`
	Context contextInfo `json:"context"`
}

type contextInfo struct {
	Cluster string `json:"cluster"`
	User    string `json:"user"`
}

// Kubeconfig returns the kubeconfig that the API server's
// --audit-webhook-config-file expects for a webhook at rawURL (for
// example https://collector:8443/audit/prod). The CA is embedded as
// certificate-authority-data when caPEM is given, else referenced by
// caFile (both empty: the system roots). token and the client
// certificate and key files are optional; the API server sends them only
// over https, so they are refused with an http URL.
func Kubeconfig(rawURL, caFile string, caPEM []byte, token, clientCert, clientKey string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("webhook: kubeconfig: server URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("webhook: kubeconfig: server URL %q must be https://host:port/path (or http:// on loopback)", rawURL)
	}
	if u.Scheme == "http" && (token != "" || clientCert != "" || clientKey != "" || caFile != "" || len(caPEM) > 0) {
		return nil, errors.New("webhook: kubeconfig: a token, client certificate or CA needs an https URL (the API server drops credentials over http)")
	}
	if caFile != "" && len(caPEM) > 0 {
		return nil, errors.New("webhook: kubeconfig: give the CA as a file or as PEM data, not both")
	}
	if (clientCert == "") != (clientKey == "") {
		return nil, errors.New("webhook: kubeconfig: give both the client certificate and its key")
	}
	if len(caPEM) > 0 {
		if err := checkPEM(caPEM); err != nil {
			return nil, err
		}
	}
	const name = "ktrail-webhook"
	kc := kubeconfig{
		APIVersion: "v1",
		Kind:       "Config",
		Clusters: []namedCluster{{Name: name, Cluster: clusterInfo{
			Server: rawURL, CertificateAuthority: caFile, CertificateAuthorityData: caPEM}}},
		Users:          []namedUser{{Name: name, User: authInfo{Token: token, ClientCertificate: clientCert, ClientKey: clientKey}}},
		Contexts:       []namedContext{{Name: name, Context: contextInfo{Cluster: name, User: name}}},
		CurrentContext: name,
	}
	out, err := yaml.Marshal(kc)
	if err != nil {
		return nil, fmt.Errorf("webhook: kubeconfig: %w", err)
	}
	return out, nil
}

// checkPEM checks that b holds at least one PEM certificate, and only
// certificates.
func checkPEM(b []byte) error {
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return fmt.Errorf("webhook: kubeconfig: CA data holds a %q PEM block, not only certificates", blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return fmt.Errorf("webhook: kubeconfig: CA data: %w", err)
		}
		n++
	}
	if n == 0 {
		return errors.New("webhook: kubeconfig: CA data holds no PEM certificate")
	}
	return nil
}
