'use strict'
// The adapters this backend serves, by name (manifest.json lists them).

module.exports = {
  ADAPTERS: {
    ...require('./pg').ADAPTERS,
    ...require('./postgresjs').ADAPTERS,
  },
}
