package containers

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
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

// Freeze pauses the containers of every running service whose alias
// starts with prefix, except except (an alias), and returns how to thaw
// them. While an FR-013 comparison times one driver, the others' processes
// (a JVM compiling, a pool's housekeeping) must not take the CPU it runs
// on: on two cores that bias alone moved an async/sync ratio from 1.0 to 1.6.
func (s *Stack) Freeze(ctx context.Context, prefix, except string) (thaw func(context.Context) error, err error) {
	var frozen []string
	thaw = func(ctx context.Context) error {
		var errs []error
		for _, id := range frozen {
			if _, err := s.cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); err != nil {
				errs = append(errs, err)
			}
		}
		frozen = nil
		return errors.Join(errs...)
	}
	if s == nil {
		return thaw, nil
	}
	for alias, id := range s.running {
		if !strings.HasPrefix(alias, prefix) || alias == except {
			continue
		}
		if _, err := s.cli.ContainerPause(ctx, id, client.ContainerPauseOptions{}); err != nil {
			_ = thaw(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("pause %s: %w", alias, err)
		}
		frozen = append(frozen, id)
	}
	return thaw, nil
}
