package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	caValidity    = 10 * 365 * 24 * time.Hour
	leafValidity  = 365 * 24 * time.Hour
	leafRenewLeft = 30 * 24 * time.Hour // issue a new leaf when less is left
)

// setupTLS builds the TLS configuration: the serving certificate (given
// or self-signed) and the client CA.
func (s *Server) setupTLS() error {
	c := &s.cfg
	if c.PlainHTTP {
		return nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.SelfSigned {
		caPEM, cert, err := s.selfSigned(filepath.Join(c.Dir, "tls"), s.sans())
		if err != nil {
			return err
		}
		s.caPEM = caPEM
		conf.Certificates = []tls.Certificate{cert}
	} else {
		kp, err := newKeyPair(c.TLSCert, c.TLSKey, s.log)
		if err != nil {
			return err
		}
		conf.GetCertificate = kp.get
	}
	if c.ClientCA != "" {
		pool, err := loadCAPool(c.ClientCA)
		if err != nil {
			return err
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	s.tlsConf = conf
	return nil
}

// sans returns the normalised, sorted SANs of the self-signed certificate.
func (s *Server) sans() []string {
	list := s.cfg.SANs
	if len(list) == 0 {
		list = []string{"localhost", "127.0.0.1", "::1"}
		if h, err := os.Hostname(); err == nil && h != "" {
			list = append(list, h)
		}
		if host, _, err := net.SplitHostPort(s.cfg.Addr); err == nil && host != "" {
			if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
				list = append(list, host)
			}
		}
	}
	var out []string
	for _, n := range list {
		n = strings.TrimSpace(n)
		if ip := net.ParseIP(n); ip != nil {
			n = ip.String()
		} else {
			n = strings.ToLower(n)
		}
		if n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// certSANs returns the normalised, sorted SANs of a certificate.
func certSANs(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// selfSigned loads or creates the CA and the serving certificate in dir.
func (s *Server) selfSigned(dir string, sans []string) (caPEM []byte, cert tls.Certificate, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, cert, fmt.Errorf("webhook: cannot create %s: %w", dir, err)
	}
	caCertPath, caKeyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	ca, caKey, caPEM, err := loadPair(caCertPath, caKeyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ca, caKey, caPEM, err = newCA()
		if err == nil {
			err = writePair(caCertPath, caKeyPath, caPEM, caKey)
		}
		if err != nil {
			return nil, cert, fmt.Errorf("webhook: cannot create the self-signed CA in %s: %w", dir, err)
		}
		s.log.printf("webhook: created a self-signed CA in %s; give ca.crt to the API server (certificate-authority in its webhook kubeconfig)", caCertPath)
	case err != nil:
		return nil, cert, fmt.Errorf("webhook: self-signed CA in %s is unusable (%v): move the directory away to create a new CA, then give the new ca.crt to the API server", dir, err)
	case !ca.IsCA:
		return nil, cert, fmt.Errorf("webhook: %s is not a CA certificate: move %s away to create a new CA", caCertPath, dir)
	}
	leafPath, leafKeyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	leaf, leafKey, leafPEM, err := loadPair(leafPath, leafKeyPath)
	reason := ""
	switch {
	case errors.Is(err, fs.ErrNotExist):
		reason = "created"
	case err != nil:
		reason = "replaced an unusable one (" + err.Error() + ")"
	case leaf.CheckSignatureFrom(ca) != nil:
		reason = "replaced one not signed by the CA"
	case !slices.Equal(certSANs(leaf), sans):
		reason = "replaced one for other names (" + strings.Join(certSANs(leaf), ", ") + ")"
	case time.Until(leaf.NotAfter) < leafRenewLeft:
		reason = "renewed one expiring " + leaf.NotAfter.UTC().Format(time.DateOnly)
	}
	if reason != "" {
		leaf, leafKey, leafPEM, err = newLeaf(ca, caKey, sans)
		if err == nil {
			err = writePair(leafPath, leafKeyPath, leafPEM, leafKey)
		}
		if err != nil {
			return nil, cert, fmt.Errorf("webhook: cannot create the serving certificate in %s: %w", dir, err)
		}
		s.log.printf("webhook: serving certificate %s: %s; names: %s", leafPath, reason, strings.Join(sans, ", "))
	}
	cert = tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Raw}, PrivateKey: leafKey, Leaf: leaf}
	return caPEM, cert, nil
}

// loadPair reads a PEM certificate and its PKCS#8 ECDSA key and checks
// that they match.
func loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, nil, errors.New("the key is not an ECDSA key")
	}
	return cert, key, certPEM, nil
}

// writePair writes the key, then the certificate, each atomically with
// mode 0600.
func writePair(certPath, keyPath string, certPEM []byte, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeFileAtomic(keyPath, keyPEM); err != nil {
		return err
	}
	return writeFileAtomic(certPath, certPEM)
}

// writeFileAtomic writes data to a hidden temporary file, fsyncs it and
// renames it over path (mode 0600).
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// newCA creates a self-signed ECDSA P-256 CA valid for ten years.
func newCA() (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "ktrail webhook CA " + host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return sign(tmpl, tmpl, &key.PublicKey, key, key)
}

// newLeaf creates a serving certificate for sans, signed by the CA.
func newLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, sans []string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: "ktrail webhook"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	for _, n := range sans {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return sign(tmpl, ca, &key.PublicKey, caKey, key)
}

func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer, key *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// watch tells, at most once per interval, whether a file changed (by
// size, modification time or identity) since the last look.
type watch struct {
	path  string
	every time.Duration
	next  time.Time
	info  os.FileInfo
}

// changed stats the file when due; a file that cannot be stat'ed counts
// as changed once, so that the caller reports the error.
func (w *watch) changed() bool {
	now := time.Now()
	if now.Before(w.next) {
		return false
	}
	w.next = now.Add(w.every)
	fi, err := os.Stat(w.path)
	if err != nil {
		was := w.info != nil
		w.info = nil
		return was
	}
	old := w.info
	w.info = fi
	return old == nil || !os.SameFile(old, fi) || old.Size() != fi.Size() || !old.ModTime().Equal(fi.ModTime())
}

// keyPair serves a certificate and key from files, reading them again
// when they change; a pair that fails to load keeps the previous one.
type keyPair struct {
	mu             sync.Mutex
	cert           *tls.Certificate
	certW, keyW    watch
	log            *logger
	certPath, keyP string
}

func newKeyPair(certPath, keyPath string, log *logger) (*keyPair, error) {
	kp := &keyPair{certPath: certPath, keyP: keyPath, log: log,
		certW: watch{path: certPath, every: time.Second}, keyW: watch{path: keyPath, every: time.Second}}
	kp.certW.changed()
	kp.keyW.changed()
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("webhook: TLS certificate %s / key %s: %w", certPath, keyPath, err)
	}
	kp.cert = &c
	return kp, nil
}

func (kp *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	c1, c2 := kp.certW.changed(), kp.keyW.changed()
	if c1 || c2 {
		c, err := tls.LoadX509KeyPair(kp.certPath, kp.keyP)
		if err != nil {
			kp.log.printf("webhook: TLS certificate changed but cannot be loaded, still serving the previous one: %s", sanitize(err.Error()))
			// Look again at the next handshake after the interval.
			kp.certW.info, kp.keyW.info = nil, nil
		} else {
			kp.cert = &c
			kp.log.printf("webhook: TLS certificate %s reloaded", kp.certPath)
		}
	}
	return kp.cert, nil
}
