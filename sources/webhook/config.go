package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/sync/semaphore"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxBody           = 16 << 20
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxConns          = 256
	DefaultMaxFileSize       = 128 << 20
	DefaultMaxFileAge        = time.Hour
)

// The memory budget for request bodies: this many MaxBody-sized bodies,
// and at least minMemBudget bytes. Each body also needs an output buffer
// of about its size, so the peak is about twice the budget.
const (
	memBudgetBodies = 8
	minMemBudget    = 64 << 20
)

// maxClusters bounds the number of cluster subdirectories (and open files)
// one server keeps, so that a client cannot exhaust descriptors by
// inventing labels.
const maxClusters = 1024

// Config configures a Server. Zero values mean the defaults above.
type Config struct {
	// Addr is the host:port to listen on when Serve is given no listener.
	Addr string
	// Dir is the spool directory (created with mode 0700).
	Dir string
	// TLSCert and TLSKey are the serving certificate and key files. They
	// are read again when they change (certificate rotation).
	TLSCert, TLSKey string
	// SelfSigned generates a CA and a serving certificate once, kept in
	// Dir/tls (ca.crt, ca.key, tls.crt, tls.key, all mode 0600), reuses
	// them on restart, and issues a new serving certificate when the SANs
	// changed or it is about to expire.
	SelfSigned bool
	// SANs are the DNS names and IP addresses of the self-signed
	// certificate (default: localhost, 127.0.0.1, ::1, the host name, and
	// the host of Addr when it is a specific address).
	SANs []string
	// PlainHTTP serves without TLS; allowed only when Addr's host is a
	// literal loopback IP (127.0.0.0/8, ::1), and never with ClientCA or
	// TokenFile.
	PlainHTTP bool
	// ClientCA is a PEM bundle: clients must present a certificate it
	// verifies (mTLS).
	ClientCA string
	// TokenFile holds one bearer token per line (blank lines and lines
	// starting with # are ignored). It is read again when it changes.
	TokenFile string
	// ClusterHeader, when set, names a request header whose value, when
	// present, is the cluster label (else only the path gives one).
	ClusterHeader string
	// MaxBody limits the decoded request body (default 16 MiB).
	MaxBody int64
	// MaxHeaderBytes limits request headers (default 64 KiB).
	MaxHeaderBytes int
	// Timeouts of the http.Server (defaults 10s, 60s, 60s, 120s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConns limits simultaneous connections (default 256).
	MaxConns int
	// MaxFileSize rotates current.jsonl at this size (default 128 MiB).
	MaxFileSize int64
	// MaxFileAge rotates current.jsonl at this age, counted from its first
	// event (default 1h).
	MaxFileAge time.Duration
	// MaxAge removes closed files older than this (0 keeps them).
	MaxAge time.Duration
	// MaxTotalSize removes the oldest closed files while the spool is
	// larger than this (0 means no limit).
	MaxTotalSize int64
	// Log receives one line per notable thing (nil means os.Stderr).
	Log io.Writer
	// Registry receives the metrics. Nil means a private registry, served
	// at /metrics; a given Registerer is served at /metrics when it is also
	// a prometheus.Gatherer (as *prometheus.Registry is).
	Registry prometheus.Registerer
	// Now returns the current time (for tests; default time.Now).
	Now func() time.Time
}

// Server receives audit webhook batches and spools them. Create it with
// New and run it with Serve.
type Server struct {
	cfg      Config
	log      *logger
	now      func() time.Time
	tlsConf  *tls.Config // nil when serving plain HTTP
	caPEM    []byte
	tokens   *tokenSet // nil without a token file
	header   string    // canonical ClusterHeader
	m        *metrics
	gatherer prometheus.Gatherer
	// mem bounds the bytes of request bodies held at once (see
	// memBudget), so that MaxConns large requests cannot exhaust memory.
	mem      *semaphore.Weighted
	busyWait time.Duration // how long a request waits for room in mem

	mu      sync.Mutex
	ln      net.Listener
	started bool
	ready   chan struct{}
	writers map[string]*writer

	// gate is held shared by every ingest request and exclusively by
	// Serve when it shuts down, after which closed refuses new batches.
	gate   sync.RWMutex
	closed bool

	// retMu serialises retention with the final swap of a compression.
	retMu       sync.Mutex
	closedBytes atomic.Int64
	bg          background

	// tick is how often idle writers check the age of their file.
	tick  time.Duration
	hooks hooks
}

// hooks let tests inject failures.
type hooks struct {
	write  func(f *os.File, b []byte) (int, error)
	sync   func(f *os.File) error
	ingest func(r *http.Request)
}

// New validates cfg, creates the spool directory and, in SelfSigned mode,
// the certificates. Errors are one line that says what to do.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     &logger{w: cfg.Log, now: cfg.Now},
		now:     cfg.Now,
		ready:   make(chan struct{}),
		writers: map[string]*writer{},
		tick:    min(max(cfg.MaxFileAge/8, 50*time.Millisecond), time.Minute),
	}
	s.bg.wake = make(chan struct{}, 1)
	s.mem = semaphore.NewWeighted(max(memBudgetBodies*cfg.MaxBody, minMemBudget))
	s.busyWait = 10 * time.Second
	if err := s.checkTransport(); err != nil {
		return nil, err
	}
	if err := prepareDir(cfg.Dir); err != nil {
		return nil, err
	}
	if err := s.setupTLS(); err != nil {
		return nil, err
	}
	if cfg.TokenFile != "" {
		ts, err := loadTokens(cfg.TokenFile, s.log)
		if err != nil {
			return nil, err
		}
		s.tokens = ts
	}
	if cfg.ClusterHeader != "" {
		if !httpguts.ValidHeaderFieldName(cfg.ClusterHeader) {
			return nil, fmt.Errorf("webhook: cluster header %q is not a valid HTTP header name", cfg.ClusterHeader)
		}
		s.header = http.CanonicalHeaderKey(cfg.ClusterHeader)
	}
	if err := s.setupMetrics(); err != nil {
		return nil, err
	}
	return s, nil
}

// defaults fills in zero values and rejects negative ones.
func (c *Config) defaults() error {
	if c.Dir == "" {
		return errors.New("webhook: no spool directory: give --dir")
	}
	neg := func(name string, bad bool) error {
		if bad {
			return fmt.Errorf("webhook: %s must not be negative", name)
		}
		return nil
	}
	if err := errors.Join(
		neg("MaxBody", c.MaxBody < 0), neg("MaxHeaderBytes", c.MaxHeaderBytes < 0),
		neg("ReadHeaderTimeout", c.ReadHeaderTimeout < 0), neg("ReadTimeout", c.ReadTimeout < 0),
		neg("WriteTimeout", c.WriteTimeout < 0), neg("IdleTimeout", c.IdleTimeout < 0),
		neg("MaxConns", c.MaxConns < 0), neg("MaxFileSize", c.MaxFileSize < 0),
		neg("MaxFileAge", c.MaxFileAge < 0), neg("MaxAge", c.MaxAge < 0),
		neg("MaxTotalSize", c.MaxTotalSize < 0)); err != nil {
		return err
	}
	setDefault(&c.MaxBody, DefaultMaxBody)
	setDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&c.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.MaxConns, DefaultMaxConns)
	setDefault(&c.MaxFileSize, DefaultMaxFileSize)
	setDefault(&c.MaxFileAge, DefaultMaxFileAge)
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return fmt.Errorf("webhook: spool directory %q: %w", c.Dir, err)
	}
	c.Dir = abs
	return nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// checkTransport validates the combination of TLS, plain HTTP and client
// authentication settings, and the listen address.
func (s *Server) checkTransport() error {
	c := &s.cfg
	var host string
	if c.Addr != "" {
		h, _, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("webhook: listen address %q: %v (want host:port, e.g. 127.0.0.1:8443 or :8443)", c.Addr, err)
		}
		host = h
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("webhook: give both --tls-cert and --tls-key")
	}
	hasCert := c.TLSCert != ""
	switch {
	case c.PlainHTTP && (hasCert || c.SelfSigned):
		return errors.New("webhook: --plain-http cannot be combined with a TLS certificate: choose one")
	case c.PlainHTTP && (c.ClientCA != "" || c.TokenFile != ""):
		return errors.New("webhook: --plain-http cannot be used with a client CA or a token file: they need TLS (the API server sends credentials only over https); use --tls-self-signed")
	case c.PlainHTTP:
		if c.Addr == "" {
			return nil // checked against the listener in Serve
		}
		if !isLoopbackIP(host) {
			return fmt.Errorf("webhook: --plain-http is allowed only on a loopback IP address such as 127.0.0.1:8080 or [::1]:8080, not %q: use TLS (--tls-self-signed) to listen elsewhere", c.Addr)
		}
	case hasCert && c.SelfSigned:
		return errors.New("webhook: give either --tls-cert/--tls-key or --tls-self-signed, not both")
	case !hasCert && !c.SelfSigned:
		return errors.New("webhook: no TLS certificate: give --tls-cert/--tls-key, --tls-self-signed, or --plain-http on a loopback address")
	}
	return nil
}

// isLoopbackIP reports whether host is a literal loopback IP address (a
// name such as "localhost" is not accepted: it could resolve elsewhere).
func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// prepareDir creates the spool directory and checks that it is writable.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("webhook: cannot create the spool directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("webhook: spool directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("webhook: spool directory %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return fmt.Errorf("webhook: spool directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// loadCAPool reads a PEM bundle of CA certificates.
func loadCAPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhook: client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("webhook: client CA %s holds no PEM certificate", path)
	}
	return pool, nil
}

// logger writes one line per notable thing, each prefixed with the time.
type logger struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// printf writes one line; the caller sanitises untrusted text.
func (l *logger) printf(format string, args ...any) {
	line := l.now().UTC().Format(time.RFC3339) + " " + fmt.Sprintf(format, args...) + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, line)
}

// Write lets the logger serve as the http.Server's error log.
func (l *logger) Write(p []byte) (int, error) {
	msg := string(p)
	for len(msg) > 0 && msg[len(msg)-1] == '\n' {
		msg = msg[:len(msg)-1]
	}
	l.printf("webhook: http: %s", sanitize(msg))
	return len(p), nil
}
