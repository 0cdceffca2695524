// Package node holds the Node.js driver backend (backend/, run as
// `node main.js`): node-postgres (pg with pg-pool and pg-cursor) and
// postgres.js, installed by npm at the versions of backend/package-lock.json.
// It embeds the source so the suite binary can build the backend image
// (containers.NodeBuild) wherever it runs; backend/manifest.json lists the
// adapters it serves and their capabilities, read before the spec tree is
// built and checked against `describe` by the protocol specs.
package node

import "embed"

// Source is the backend (backend/*.js, backend/drivers/*.js,
// backend/manifest.json, the npm package and lock files) and its unit
// tests (backend/test, backend/testlib), which run in the image because
// only the image has the drivers (scripts/backend-unit-tests.sh).
//
//go:embed backend/*.js backend/drivers/*.js backend/manifest.json backend/package.json backend/package-lock.json backend/test/*.js backend/testlib/*.js
var Source embed.FS
