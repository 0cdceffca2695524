package containers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// hostCAFile is the name of the host's CA bundle in a build context.
const hostCAFile = "host-ca.crt"

// hostCABundles are where this host's trusted CAs may be, first found wins
// (after $SSL_CERT_FILE): Debian/Ubuntu, Fedora/RHEL, Alpine/macOS.
var hostCABundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
}

// hostCABundle is the host's CA bundle as host-ca.crt, for an image build
// whose package manager (npm) reaches its registry through a TLS chain only
// the host trusts (a proxy that re-signs TLS): the Dockerfile hands it to
// the installer of a build stage only, rather than turning TLS checks off.
// Empty when the host has none. It stays out of the image's tag: it decides
// how packages are fetched, not which (the lock file pins those).
func hostCABundle() (file, error) {
	paths := hostCABundles
	if p := os.Getenv("SSL_CERT_FILE"); p != "" {
		paths = append([]string{p}, paths...)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return file{}, fmt.Errorf("read the host's CA bundle %s: %w", p, err)
		}
		return file{name: hostCAFile, data: data, mode: 0o644}, nil
	}
	return file{name: hostCAFile, mode: 0o644}, nil
}
