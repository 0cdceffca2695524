package containers

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"
)

// RemoveOwned removes every container (in any state, Created included) and
// network that carries this process's owner label. The suite calls it on
// every exit path of a run, so Ctrl-C at any moment of start-up — an image
// build, a container create, a readiness wait — leaves nothing behind, even
// what no Stack knew of yet.
func RemoveOwned(ctx context.Context) error {
	cli, err := Docker(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	f := client.Filters{}.Add("label", LabelOwner+"="+Owner())
	var errs []error
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list this run's containers: %w", err)
	}
	for _, c := range cs.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
		}
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list this run's networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}
