package certs

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

func TestIssuedCertificateVerifiesAgainstItsCAOnly(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseCA(ca.CertPEM, ca.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCA("other CA", now)
	srv, err := again.ServerConfig("127.0.0.1", now)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	dial := func(caPEM []byte, host string) error {
		cfg, err := ClientConfig(caPEM, host)
		if err != nil {
			return err
		}
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(ca.CertPEM, "127.0.0.1"); err != nil {
		t.Errorf("the issuing CA does not verify its certificate: %v", err)
	}
	if err := dial(other.CertPEM, "127.0.0.1"); err == nil {
		t.Error("another CA verified the certificate")
	}
	if err := dial(ca.CertPEM, "example.com"); err == nil {
		t.Error("the certificate verified for a host it does not name")
	}
	if _, _, err := ca.Issue(nil, nil, now); err == nil {
		t.Error("a certificate for nothing was issued")
	}
}
