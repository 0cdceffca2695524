'use strict'

const fs = require('fs')
const path = require('path')

// version reads an installed package's version from its package.json
// (packages with "exports" do not let require() reach it).
function version(pkg) {
  for (let d = path.dirname(require.resolve(pkg)); d !== path.dirname(d); d = path.dirname(d)) {
    const f = path.join(d, 'package.json')
    if (fs.existsSync(f)) {
      const j = JSON.parse(fs.readFileSync(f, 'utf8'))
      if (j.name === pkg) return j.version
    }
  }
  return 'unknown'
}

module.exports = { version }
