package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"

	"golang.org/x/net/netutil"
)

// Serve listens (on Addr when ln is nil) and serves until ctx is done.
// It then stops accepting connections, waits for the requests in flight
// (so that every batch answered 200 is on disk), stops the spool writers
// and returns. It may be called once; ln is closed on return.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("webhook: Serve was already called on this server")
	}
	s.started = true
	s.mu.Unlock()
	if ln == nil {
		if s.cfg.Addr == "" {
			return errors.New("webhook: no listen address: give --listen host:port")
		}
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return fmt.Errorf("webhook: cannot listen on %s: %w", s.cfg.Addr, err)
		}
	} else if s.cfg.PlainHTTP {
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			ln.Close()
			return fmt.Errorf("webhook: --plain-http is allowed only on a loopback IP address, not %s: use TLS (--tls-self-signed) to listen elsewhere", ln.Addr())
		}
	}
	if err := s.recoverSpool(); err != nil {
		ln.Close()
		return err
	}
	bgCtx, stopBg := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		s.runBackground(bgCtx)
	}()

	srv := &http.Server{
		Handler:           s,
		TLSConfig:         s.tlsConf,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          log.New(s.log, "", 0),
		// HTTP/1.1 only. Over HTTP/2 a request waiting for the body memory
		// budget keeps its unread data in the connection's flow-control
		// window and stalls every other stream on that connection: under a
		// burst the throughput collapsed to a fifth with idle CPU (see
		// BENCHMARKS.md, TestOverloadBurst). One request per connection
		// also makes MaxConns bound the requests in progress.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	lim := netutil.LimitListener(ln, s.cfg.MaxConns)
	errc := make(chan error, 1)
	go func() {
		if s.tlsConf != nil {
			errc <- srv.ServeTLS(lim, "", "")
		} else {
			errc <- srv.Serve(lim)
		}
	}()
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.log.printf("webhook: listening on %s (%s); spool %s", ln.Addr(), s.mode(), s.cfg.Dir)
	close(s.ready)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	grace, cancel := context.WithTimeout(context.Background(), s.cfg.ReadTimeout+s.cfg.WriteTimeout)
	if err := srv.Shutdown(grace); err != nil {
		srv.Close()
	}
	cancel()
	if serveErr == nil {
		serveErr = <-errc
	}
	// Wait for handlers still storing a batch, and refuse later ones.
	s.gate.Lock()
	s.closed = true
	s.gate.Unlock()
	s.stopWriters()
	stopBg()
	<-bgDone
	s.log.printf("webhook: stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("webhook: serving on %s: %w", ln.Addr(), serveErr)
	}
	return nil
}

// mode describes the transport security for the start-up log line.
func (s *Server) mode() string {
	if s.tlsConf == nil {
		return "plain HTTP, loopback only"
	}
	m := "TLS"
	if s.cfg.SelfSigned {
		m += " with the self-signed CA in " + s.cfg.Dir + "/tls/ca.crt"
	}
	if s.cfg.ClientCA != "" {
		m += ", client certificates required"
	}
	if s.tokens != nil {
		m += ", bearer token required"
	}
	return m
}

// Addr returns the address being listened on, or nil before Serve
// started listening.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Ready returns a channel closed once the server is listening.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// CAPEM returns the PEM certificate of the self-signed CA (nil unless
// SelfSigned), for the API server's webhook kubeconfig.
func (s *Server) CAPEM() []byte { return slices.Clone(s.caPEM) }
