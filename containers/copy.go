package containers

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/moby/moby/client"
)

// CopyFile puts data at the absolute path dest inside the containers of
// every running service whose alias starts with prefix ("backend-": every
// driver backend), readable by any user: how a backend gets the wire taps'
// CA certificate, which its driver must find on its own filesystem.
func (s *Stack) CopyFile(ctx context.Context, prefix, dest string, data []byte) error {
	if s == nil {
		return nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: path.Base(dest), Mode: 0o644, Size: int64(len(data))}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	for alias, id := range s.running {
		if !strings.HasPrefix(alias, prefix) {
			continue
		}
		if _, err := s.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: path.Dir(dest), Content: bytes.NewReader(buf.Bytes())}); err != nil {
			return fmt.Errorf("copy %s into %s: %w", dest, alias, err)
		}
	}
	return nil
}
