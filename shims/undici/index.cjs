'use strict'
// The parts of undici (https://github.com/nodejs/undici, MIT) this action uses, from their own modules of the real
// package (undici-upstream, an npm alias of undici at the version in package.json). undici's own index.js loads every
// part (fetch, WebSocket, EventSource, caches, cookies, mocks) on require; a step makes one or two requests and
// loads only these. See shims/README.md.
const Dispatcher = require('undici-upstream/lib/dispatcher/dispatcher')

// As undici's index.js does: the request API (request, stream, pipeline, upgrade, connect) on every dispatcher.
// ProxyAgent opens its CONNECT tunnel with Client.prototype.connect, which comes from here.
Object.assign(Dispatcher.prototype, require('undici-upstream/lib/api'))

module.exports.Dispatcher = Dispatcher
module.exports.Agent = require('undici-upstream/lib/dispatcher/agent')
module.exports.ProxyAgent = require('undici-upstream/lib/dispatcher/proxy-agent')
module.exports.EnvHttpProxyAgent = require('undici-upstream/lib/dispatcher/env-http-proxy-agent')
module.exports.buildConnector = require('undici-upstream/lib/core/connect')
