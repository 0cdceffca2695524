package containers

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// Gateway is the host's address on the stack's network: containers on the
// network reach a listener on it (a wire tap in front of the target), and
// so does this host.
func (s *Stack) Gateway(ctx context.Context) (string, error) {
	if s == nil || s.netID == "" {
		return "", fmt.Errorf("the stack is not running")
	}
	res, err := s.cli.NetworkInspect(ctx, s.netID, client.NetworkInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect network %s: %w", s.netName, err)
	}
	for _, c := range res.Network.IPAM.Config {
		if c.Gateway.IsValid() && c.Gateway.Is4() {
			return c.Gateway.String(), nil
		}
	}
	return "", fmt.Errorf("network %s has no IPv4 gateway", s.netName)
}
