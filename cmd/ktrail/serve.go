package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ktrail/sources"
	"ktrail/sources/webhook"
)

// serverFlags configure the webhook receiver (ktrail serve and ktrail
// --listen).
type serverFlags struct {
	listen        string
	dir           string
	tlsCert       string
	tlsKey        string
	selfSigned    bool
	sans          []string
	plainHTTP     bool
	clientCA      string
	tokenFile     string
	clusterHeader string
	maxBody       string
	maxFileSize   string
	maxFileAge    time.Duration
	maxAge        time.Duration
	maxSize       string
	maxConns      int
}

func addServerFlags(cmd *cobra.Command, s *serverFlags, listenFlag bool) {
	f := cmd.Flags()
	if listenFlag {
		f.StringVar(&s.listen, "listen", "", "receive events from the API server's audit webhook on ADDR (host:port) and show them live")
	} else {
		f.StringVar(&s.listen, "listen", ":8443", "address to listen on (host:port)")
	}
	f.StringVar(&s.dir, "dir", "", "spool directory: received events are kept here, one subdirectory per cluster (default $XDG_STATE_HOME/ktrail/spool)")
	f.StringVar(&s.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	f.StringVar(&s.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	f.BoolVar(&s.selfSigned, "tls-self-signed", false, "generate a CA and a serving certificate once, kept in DIR/tls (the CA goes in the webhook kubeconfig)")
	f.StringSliceVar(&s.sans, "tls-san", nil, "DNS name or IP for the self-signed certificate (repeatable; default localhost, 127.0.0.1, ::1 and the host name)")
	f.BoolVar(&s.plainHTTP, "plain-http", false, "serve plain HTTP: only on a literal loopback address and without --token-file/--client-ca (the API server sends no credentials over http)")
	f.StringVar(&s.clientCA, "client-ca", "", "require client certificates signed by this CA bundle (mTLS)")
	f.StringVar(&s.tokenFile, "token-file", "", "require one of the bearer tokens in this file (one per line)")
	f.StringVar(&s.clusterHeader, "cluster-header", "", "take the cluster label from this request header (set by a proxy you control)")
	f.StringVar(&s.maxBody, "max-body", "16MiB", "largest request body accepted (after gzip decoding)")
	f.StringVar(&s.maxFileSize, "max-file-size", "128MiB", "rotate a spool file at this size")
	f.DurationVar(&s.maxFileAge, "max-file-age", time.Hour, "rotate a spool file at this age")
	f.DurationVar(&s.maxAge, "max-age", 0, "delete rotated files older than this (0 keeps them)")
	f.StringVar(&s.maxSize, "max-size", "0", "delete the oldest rotated files while the spool is larger than this (0 = no limit)")
	f.IntVar(&s.maxConns, "max-conns", 256, "most connections served at once")
}

// config turns the flags into the receiver's configuration.
func (s *serverFlags) config(log io.Writer) (webhook.Config, error) {
	c := webhook.Config{
		Addr: s.listen, Dir: s.dir, TLSCert: s.tlsCert, TLSKey: s.tlsKey,
		SelfSigned: s.selfSigned, SANs: s.sans, PlainHTTP: s.plainHTTP,
		ClientCA: s.clientCA, TokenFile: s.tokenFile, ClusterHeader: s.clusterHeader,
		MaxFileAge: s.maxFileAge, MaxAge: s.maxAge, MaxConns: s.maxConns, Log: log,
	}
	if c.Dir == "" {
		d := xdgDir(os.Getenv, "XDG_STATE_HOME", ".local/state")
		if d == "" {
			return c, usageErr("--dir is needed (no $XDG_STATE_HOME or $HOME to put the spool in)")
		}
		c.Dir = filepath.Join(d, "spool")
	}
	var err error
	if c.MaxBody, err = parseSize(s.maxBody); err != nil {
		return c, usageErr("--max-body: %v", err)
	}
	if c.MaxFileSize, err = parseSize(s.maxFileSize); err != nil {
		return c, usageErr("--max-file-size: %v", err)
	}
	if c.MaxTotalSize, err = parseSize(s.maxSize); err != nil {
		return c, usageErr("--max-size: %v", err)
	}
	return c, nil
}

// startServer creates the receiver, marks its directory as a spool and
// starts serving; the returned channel gets Serve's result.
func startServer(ctx context.Context, s *serverFlags, log io.Writer) (*webhook.Server, string, <-chan error, error) {
	cfg, err := s.config(log)
	if err != nil {
		return nil, "", nil, err
	}
	srv, err := webhook.New(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	if err := markSpool(cfg.Dir); err != nil {
		return nil, "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, nil) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		return nil, "", nil, err
	}
	return srv, cfg.Dir, done, nil
}

// markSpool writes the marker that makes readers treat dir as a spool.
func markSpool(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("spool %s: %v", dir, err)
	}
	p := filepath.Join(dir, sources.SpoolMarker)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return os.WriteFile(p, []byte("ktrail webhook spool: one directory per cluster label\n"), 0o600)
}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	var s serverFlags
	cmd := &cobra.Command{
		Use:   "serve --dir DIR [flags]",
		Short: "Receive audit events from the API server's webhook backend and keep them (headless collector)",
		Long: `serve is the receiver that kube-apiserver's audit webhook backend posts to
(--audit-webhook-config-file; see ktrail webhook-config). Each batch is
appended to DIR/<cluster>/current.jsonl, one event per line as received, and
flushed to disk before it is answered 200. POST to /audit/<cluster> to label
a cluster. Files are rotated by size and age and gzipped; old ones removed.
Open the directory later with ktrail DIR, or live with ktrail -f DIR.
TLS is required: --tls-cert/--tls-key, --tls-self-signed, or --plain-http on
a loopback address. /healthz and /metrics (Prometheus) are served too.`,
		Example: `  ktrail serve --dir /var/lib/ktrail --listen :8443 --tls-self-signed --tls-san audit.example.com --token-file /etc/ktrail/tokens
  ktrail serve --dir ./spool --listen 127.0.0.1:8080 --plain-http`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, dir, done, err := startServer(ctx, &s, stderr)
			if err != nil {
				return err
			}
			scheme := "https"
			if s.plainHTTP {
				scheme = "http"
			}
			fmt.Fprintf(stderr, "ktrail serve: listening on %s://%s, spool %s\n", scheme, srv.Addr(), dir)
			if s.selfSigned {
				fmt.Fprintf(stderr, "ktrail serve: CA for the webhook kubeconfig: %s (ktrail webhook-config --ca %s --url %s://HOST:PORT/audit/CLUSTER …)\n",
					filepath.Join(dir, "tls", "ca.crt"), filepath.Join(dir, "tls", "ca.crt"), scheme)
			}
			err = <-done
			st := srv.Stats()
			fmt.Fprintf(stderr, "ktrail serve: stopped after %d batches, %d events\n", st.Batches, st.Events)
			return err
		},
	}
	addServerFlags(cmd, &s, false)
	return cmd
}

func newWebhookConfigCmd(stdout io.Writer) *cobra.Command {
	var url, ca, token, tokenFile, cert, key string
	cmd := &cobra.Command{
		Use:   "webhook-config --url URL [--ca FILE] [--token T | --token-file F | --client-cert F --client-key F]",
		Short: "Print the kubeconfig for kube-apiserver's --audit-webhook-config-file",
		Example: `  ktrail webhook-config --url https://audit.example.com:8443/audit/prod --ca spool/tls/ca.crt --token-file token > audit-webhook.kubeconfig
  # then: kube-apiserver --audit-webhook-config-file=audit-webhook.kubeconfig --audit-webhook-batch-max-wait=5s …`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if url == "" {
				return usageErr("--url is required, e.g. https://audit.example.com:8443/audit/prod")
			}
			if token != "" && tokenFile != "" {
				return usageErr("give --token or --token-file, not both")
			}
			if (cert == "") != (key == "") {
				return usageErr("--client-cert and --client-key go together")
			}
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return err
				}
				for _, l := range strings.Split(string(b), "\n") {
					if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
						token = l
						break
					}
				}
				if token == "" {
					return usageErr("--token-file %s holds no token", tokenFile)
				}
			}
			if strings.HasPrefix(url, "http://") && (token != "" || cert != "") {
				return usageErr("the API server sends no credentials to an http:// URL: use https")
			}
			var caPEM []byte
			if ca != "" {
				b, err := os.ReadFile(ca)
				if err != nil {
					return err
				}
				caPEM = b
			}
			out, err := webhook.Kubeconfig(url, "", caPEM, token, cert, key)
			if err != nil {
				return err
			}
			_, err = stdout.Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "url", "", "where ktrail listens, with the path /audit/<cluster> to label the cluster")
	f.StringVar(&ca, "ca", "", "CA certificate that signed ktrail's serving certificate (embedded)")
	f.StringVar(&token, "token", "", "bearer token the API server sends")
	f.StringVar(&tokenFile, "token-file", "", "read the bearer token from this file (its first token)")
	f.StringVar(&cert, "client-cert", "", "client certificate file for mTLS (path, read by the API server)")
	f.StringVar(&key, "client-key", "", "client key file for mTLS (path, read by the API server)")
	return cmd
}
