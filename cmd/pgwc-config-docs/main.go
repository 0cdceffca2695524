// Command pgwc-config-docs prints docs/configuration.md, the settings table
// generated from the config package's own list (make config-docs).
package main

import (
	"fmt"

	"github.com/pgwire-conformance/pgwire-conformance/config"
)

func main() { fmt.Print(config.Markdown()) }
