package containers

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHostCABundle(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"), 0o644)
	t.Setenv("SSL_CERT_FILE", p)
	f, err := hostCABundle()
	if err != nil || f.name != hostCAFile || string(f.data[:27]) != "-----BEGIN CERTIFICATE-----" {
		t.Errorf("from SSL_CERT_FILE: %q %v", f.name, err)
	}
	// Not in the tag: the same build context hashes the same whatever the
	// host's bundle holds.
	b := PGliteBuild
	files, err := b.files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.name == hostCAFile {
			t.Errorf("%s is part of the committed build context", hostCAFile)
		}
	}
	if !b.HostCA || PgBouncerBuild.HostCA || PostgresBuild.HostCA {
		t.Error("only the npm-installing builds take the host's CA bundle")
	}
}
