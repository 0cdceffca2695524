package target

import (
	"net"
	"time"

	"github.com/pgwire-conformance/pgwire-conformance/certs"
)

// serverTLS is a throwaway CA and a server certificate it signed, all PEM.
type serverTLS struct {
	CAPEM, CertPEM, KeyPEM []byte
}

// makeServerTLS makes a run CA and a server certificate it signs for the
// given DNS names and IP addresses, so a client can verify the server with
// sslmode=verify-full.
func makeServerTLS(dnsNames []string, ips []net.IP, now time.Time) (serverTLS, error) {
	ca, err := certs.NewCA("pgwire-conformance run CA", now)
	if err != nil {
		return serverTLS{}, err
	}
	cert, key, err := ca.Issue(dnsNames, ips, now)
	if err != nil {
		return serverTLS{}, err
	}
	return serverTLS{CAPEM: ca.CertPEM, CertPEM: cert, KeyPEM: key}, nil
}
