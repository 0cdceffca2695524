#!/bin/sh
# Starts pglite-socket's server on 0.0.0.0:5432 with an in-memory database
# and pgvector. First it prints the installed versions ("pgwc-version NAME
# VERSION"), which the suite reads to name the implementation it certifies.
set -eu
cd /opt/pglite
node -e '
const fs = require("fs");
for (const p of ["@electric-sql/pglite-socket", "@electric-sql/pglite", "@electric-sql/pglite-pgvector"]) {
  const v = JSON.parse(fs.readFileSync("node_modules/" + p + "/package.json", "utf8")).version;
  console.log("pgwc-version " + p + " " + v);
}
console.log("pgwc-version node " + process.versions.node);
'
exec node node_modules/@electric-sql/pglite-socket/dist/scripts/server.js \
	--host=0.0.0.0 --port=5432 --db=memory:// \
	--max-connections="${PGLITE_MAX_CONNECTIONS}" \
	--extensions=@electric-sql/pglite-pgvector:vector
