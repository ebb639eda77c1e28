'use strict'
// qlookupd helpers for the conformance suite, next to harness.js (which starts qd).
//
// qlookupd is located through $QLOOKUPD_BINARY (ctest sets it); for local runs it defaults
// to build/release/lookupd/qlookupd. Set QD_LOG=1 to stream its stderr too. A Lookupd has
// the fields harness.js helpers look at (httpBase, exited, exitInfo, logTail), so
// h.httpRequest and h.waitFor accept it in place of a qd.

const {spawn} = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const h = require('./harness')

const REPO_ROOT = path.resolve(__dirname, '..', '..')
const DEFAULT_QLOOKUPD_BINARY = path.join(REPO_ROOT, 'build', 'release', 'lookupd', 'qlookupd')
const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 10_000

function qlookupdBinary() {
  const bin = process.env.QLOOKUPD_BINARY || DEFAULT_QLOOKUPD_BINARY
  if (!fs.existsSync(bin)) {
    throw new Error(`qlookupd binary not found at ${bin} (set QLOOKUPD_BINARY or build build/release/lookupd/qlookupd)`)
  }
  return bin
}

class Lookupd {
  constructor(proc) {
    this.proc = proc
    this.log = []
    this.exitInfo = null
    this.tcpPort = null
    this.httpPort = null
    this.host = '127.0.0.1'
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitInfo = {code, signal}
        resolve(this.exitInfo)
      })
    })
  }

  get tcpAddress() {
    return `${this.host}:${this.tcpPort}`
  }

  get httpAddress() {
    return `${this.host}:${this.httpPort}`
  }

  get httpBase() {
    return `http://${this.httpAddress}`
  }

  logTail(lines = 40) {
    return `--- qlookupd log (last ${lines} lines) ---\n${this.log.slice(-lines).join('\n')}\n---`
  }

  /** SIGTERM, wait up to 10 s, then SIGKILL. Returns {code, signal, killed, alreadyExited}. */
  async stop() {
    let killed = false
    const alreadyExited = !!this.exitInfo
    if (!this.exitInfo) {
      this.proc.kill('SIGTERM')
      const done = await h.withTimeout(this.exited, STOP_TIMEOUT_MS, 'qlookupd exit after SIGTERM').catch(() => null)
      if (!done) {
        killed = true
        this.proc.kill('SIGKILL')
        await this.exited
      }
    }
    return {...this.exitInfo, killed, alreadyExited}
  }
}

/**
 * Starts qlookupd on 127.0.0.1 port 0 (TCP and HTTP) with --broadcast-address=127.0.0.1 and
 * any extra nsqlookupd-style flags. Resolves once both listening lines appeared.
 */
async function startLookupd(extraArgs = []) {
  const bin = qlookupdBinary()
  const args = [
    '--tcp-address=127.0.0.1:0',
    '--http-address=127.0.0.1:0',
    '--broadcast-address=127.0.0.1',
    ...extraArgs,
  ]
  const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']})
  const lookupd = new Lookupd(proc)
  const streamLog = !!process.env.QD_LOG
  const ports = new Promise((resolve, reject) => {
    const onLine = (line) => {
      lookupd.log.push(line)
      if (lookupd.log.length > 5000) lookupd.log.splice(0, lookupd.log.length - 5000)
      if (streamLog) process.stderr.write(`[qlookupd ${proc.pid}] ${line}\n`)
      let m = /(?:^|[^A-Za-z])TCP: listening on (\S+):(\d+)/.exec(line)
      if (m) lookupd.tcpPort = Number(m[2])
      m = /(?:^|[^A-Za-z])HTTP: listening on (\S+):(\d+)/.exec(line)
      if (m) lookupd.httpPort = Number(m[2])
      if (lookupd.tcpPort && lookupd.httpPort) resolve()
    }
    for (const stream of [proc.stderr, proc.stdout]) {
      let buf = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => {
        buf += chunk
        let i
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i).replace(/\r$/, ''))
          buf = buf.slice(i + 1)
        }
      })
    }
    proc.on('error', (err) => reject(new Error(`failed to spawn ${bin}: ${err.message}`)))
    lookupd.exited.then((info) => reject(new Error(`qlookupd exited during startup (${JSON.stringify(info)})\n${lookupd.logTail()}`)))
  })
  try {
    await h.withTimeout(ports, START_TIMEOUT_MS, 'qlookupd to log "TCP: listening on" and "HTTP: listening on"')
  } catch (err) {
    await lookupd.stop()
    throw err
  }
  return lookupd
}

/** GET /lookup?topic= on a lookupd: the producers' tcp ports, sorted ([] on 404). */
async function lookupTcpPorts(lookupd, topic) {
  const r = await h.httpRequest(lookupd, 'GET', `/lookup?topic=${encodeURIComponent(topic)}`)
  if (r.status !== 200) return []
  return JSON.parse(r.text).producers.map((p) => p.tcp_port).sort((a, b) => a - b)
}

/**
 * Starts `lookupds` qlookupd, then `qds` qd each registered with every lookupd (broadcast
 * address 127.0.0.1), in before(); stops them all in after() and fails if any had died or
 * did not shut down cleanly. Returns a getter for {lookupds, qds}.
 */
function useCluster({lookupds = 2, qds = 2, lookupdArgs = [], qdArgs = []} = {}) {
  const {before, after} = require('node:test')
  const cluster = {lookupds: [], qds: []}
  before(async () => {
    for (let i = 0; i < lookupds; i++) cluster.lookupds.push(await startLookupd(lookupdArgs))
    const lookupFlags = cluster.lookupds.map((l) => `--lookupd-tcp-address=${l.tcpAddress}`)
    for (let i = 0; i < qds; i++) {
      cluster.qds.push(await h.startQd([...lookupFlags, '--broadcast-address=127.0.0.1', ...qdArgs]))
    }
  }, {timeout: (lookupds + qds) * START_TIMEOUT_MS})
  after(async () => {
    h.closeAll()
    const problems = []
    for (const [name, procs] of [['qd', cluster.qds], ['qlookupd', cluster.lookupds]]) {
      for (const p of procs) {
        const res = await p.stop()
        const clean = res.code === 0 || (res.code === null && res.signal === 'SIGTERM')
        if (res.alreadyExited || res.killed || !clean) {
          problems.push(`${name} did not shut down cleanly: ${JSON.stringify(res)}\n${p.logTail()}`)
        }
      }
    }
    if (problems.length) throw new Error(problems.join('\n'))
  }, {timeout: (lookupds + qds) * STOP_TIMEOUT_MS})
  return () => cluster
}

module.exports = {
  startLookupd,
  lookupTcpPorts,
  useCluster,
}
