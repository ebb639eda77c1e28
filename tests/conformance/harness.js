'use strict'
// Shared helpers for the nsqjs conformance suite.
//
// Every test file starts its own qd (port 0, fresh temp --data-path), so files can run in
// parallel. qd is located through $QD_BINARY (ctest sets it); for local runs it defaults to
// build/release/qd/qd. Set QD_LOG=1 to stream qd's stderr to this process's stderr.

const {spawn} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const {performance} = require('node:perf_hooks')
const nsq = require('nsqjs')

const REPO_ROOT = path.resolve(__dirname, '..', '..')
const DEFAULT_QD_BINARY = path.join(REPO_ROOT, 'build', 'release', 'qd', 'qd')

const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 10_000
const DEFAULT_WAIT_MS = 10_000
// Per-test bound; every test passes it (or a smaller one) to node:test.
const TEST_TIMEOUT_MS = 30_000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const now = () => performance.now()

function qdBinary() {
  const bin = process.env.QD_BINARY || DEFAULT_QD_BINARY
  if (!fs.existsSync(bin)) {
    throw new Error(
      `qd binary not found at ${bin} (set QD_BINARY or build build/release/qd/qd)`
    )
  }
  return bin
}

/**
 * Rejects with a descriptive error if `promise` does not settle within `ms`, or, when `qd`
 * is given, as soon as that qd process exits (so a crashed daemon fails tests fast).
 */
function withTimeout(promise, ms, what, qd) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms: ${what}`)),
      ms
    )
  })
  const racers = [promise, timeout]
  if (qd) {
    racers.push(qd.exited.then((info) => {
      throw new Error(`qd exited (${safeJson(info)}) while waiting for: ${what}\n${qd.logTail()}`)
    }))
  }
  return Promise.race(racers).finally(() => clearTimeout(timer))
}

/**
 * Polls `fn` (sync or async) until it returns a truthy value, which is returned.
 * Fails after `timeout` ms with `message` and the last value / error seen.
 * If `qd` is given and its process exits meanwhile, fails immediately.
 */
async function waitFor(fn, {timeout = DEFAULT_WAIT_MS, interval = 25, message = 'condition', qd} = {}) {
  const deadline = now() + timeout
  let last
  let lastErr
  for (;;) {
    if (qd && qd.exitInfo) {
      throw new Error(`qd exited (${JSON.stringify(qd.exitInfo)}) while waiting for: ${message}\n${qd.logTail()}`)
    }
    try {
      last = await fn()
      lastErr = undefined
      if (last) return last
    } catch (err) {
      lastErr = err
    }
    if (now() >= deadline) {
      const detail = lastErr ? `last error: ${lastErr.stack || lastErr}` : `last value: ${safeJson(last)}`
      throw new Error(`timed out after ${timeout} ms waiting for: ${message}; ${detail}`)
    }
    await sleep(interval)
  }
}

/**
 * For an observation window of `ms` milliseconds, repeatedly runs `check` (which should
 * throw, e.g. via assert, when the condition is violated). Used only where the property
 * under test is the *absence* of something (no delivery, no redelivery).
 */
async function holdsFor(ms, check, {interval = 50} = {}) {
  const end = now() + ms
  for (;;) {
    await check()
    if (now() >= end) return
    await sleep(Math.min(interval, Math.max(0, end - now())))
  }
}

function safeJson(v) {
  try {
    return JSON.stringify(v)
  } catch {
    return String(v)
  }
}

// ---------------------------------------------------------------------------------------
// qd process
// ---------------------------------------------------------------------------------------

class Qd {
  constructor(proc, dataDir) {
    this.proc = proc
    this.dataDir = dataDir
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

  get httpBase() {
    return `http://${this.host}:${this.httpPort}`
  }

  logTail(lines = 40) {
    return `--- qd log (last ${lines} lines) ---\n${this.log.slice(-lines).join('\n')}\n---`
  }

  /**
   * SIGTERM, wait up to 10 s, then SIGKILL. Removes the data dir.
   * Returns {code, signal, killed, alreadyExited}.
   */
  async stop() {
    let killed = false
    const alreadyExited = !!this.exitInfo
    if (!this.exitInfo) {
      this.proc.kill('SIGTERM')
      const done = await withTimeout(this.exited, STOP_TIMEOUT_MS, 'qd exit after SIGTERM').catch(() => null)
      if (!done) {
        killed = true
        this.proc.kill('SIGKILL')
        await this.exited
      }
    }
    fs.rmSync(this.dataDir, {recursive: true, force: true})
    return {...this.exitInfo, killed, alreadyExited}
  }
}

/**
 * Starts qd on 127.0.0.1 port 0 (TCP and HTTP) with a fresh data dir and any extra
 * nsqd-style flags (e.g. ['--msg-timeout=1s']). Resolves once both listening lines appeared.
 */
async function startQd(extraArgs = []) {
  const bin = qdBinary()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-conformance-'))
  const args = [
    '--tcp-address=127.0.0.1:0',
    '--http-address=127.0.0.1:0',
    `--data-path=${dataDir}`,
    ...extraArgs,
  ]
  const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']})
  liveProcs.add(proc)
  proc.on('exit', () => liveProcs.delete(proc))
  const qd = new Qd(proc, dataDir)
  const streamLog = !!process.env.QD_LOG

  const ports = new Promise((resolve, reject) => {
    const onLine = (line) => {
      qd.log.push(line)
      if (qd.log.length > 5000) qd.log.splice(0, qd.log.length - 5000)
      if (streamLog) process.stderr.write(`[qd ${proc.pid}] ${line}\n`)
      let m = /(?:^|[^A-Za-z])TCP: listening on (\S+):(\d+)/.exec(line)
      if (m) qd.tcpPort = Number(m[2])
      m = /(?:^|[^A-Za-z])HTTP: listening on (\S+):(\d+)/.exec(line)
      if (m) qd.httpPort = Number(m[2])
      if (qd.tcpPort && qd.httpPort) resolve()
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
    qd.exited.then((info) =>
      reject(new Error(`qd exited during startup (${safeJson(info)})\n${qd.logTail()}`))
    )
  })

  try {
    await withTimeout(ports, START_TIMEOUT_MS, `qd to log "TCP: listening on" and "HTTP: listening on"`)
  } catch (err) {
    await qd.stop()
    if (!err.message.includes('--- qd log')) err.message += `\n${qd.logTail()}`
    throw err
  }
  return qd
}

// ---------------------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------------------

async function httpRequest(qd, method, pathAndQuery, body) {
  const res = await withTimeout(
    fetch(`${qd.httpBase}${pathAndQuery}`, {method, body}),
    DEFAULT_WAIT_MS,
    `${method} ${pathAndQuery}`,
    qd
  )
  const text = await res.text()
  return {status: res.status, text, headers: res.headers}
}

async function httpOk(qd, method, pathAndQuery, body) {
  const r = await httpRequest(qd, method, pathAndQuery, body)
  if (r.status !== 200) {
    throw new Error(`${method} ${pathAndQuery} -> ${r.status} ${r.text}`)
  }
  return r
}

/** POST /pub?topic=T[&defer=ms] */
function httpPub(qd, topic, body, {defer} = {}) {
  let q = `/pub?topic=${encodeURIComponent(topic)}`
  if (defer !== undefined) q += `&defer=${defer}`
  return httpOk(qd, 'POST', q, body)
}

/** POST /mpub?topic=T&binary=true with the binary MPUB layout. */
function httpMpub(qd, topic, bodies) {
  const parts = [u32(bodies.length)]
  for (const b of bodies) {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b)
    parts.push(u32(buf.length), buf)
  }
  return httpOk(qd, 'POST', `/mpub?topic=${encodeURIComponent(topic)}&binary=true`, Buffer.concat(parts))
}

function u32(n) {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** GET /stats?format=json[&topic=] parsed. */
async function stats(qd, {topic} = {}) {
  let q = '/stats?format=json'
  if (topic) q += `&topic=${encodeURIComponent(topic)}`
  const r = await httpOk(qd, 'GET', q)
  return JSON.parse(r.text)
}

async function topicStats(qd, topic) {
  const s = await stats(qd, {topic})
  return (s.topics || []).find((t) => t.topic_name === topic) || null
}

async function channelStats(qd, topic, channel) {
  const t = await topicStats(qd, topic)
  if (!t) return null
  return (t.channels || []).find((c) => c.channel_name === channel) || null
}

/** Waits until the channel stats satisfy `pred(ch)`; returns the channel object. */
function waitForChannel(qd, topic, channel, pred, message, opts = {}) {
  return waitFor(
    async () => {
      const ch = await channelStats(qd, topic, channel)
      return ch && pred(ch) ? ch : null
    },
    {message: `${topic}/${channel}: ${message}`, qd, ...opts}
  )
}

// ---------------------------------------------------------------------------------------
// nsqjs clients (tracked so `closeAll` can tidy up even after a failed assertion)
// ---------------------------------------------------------------------------------------

const openClients = new Set()

/** Connects an nsqjs Writer and resolves once it is ready. */
async function connectWriter(qd, options = {}) {
  const writer = new nsq.Writer(qd.host, qd.tcpPort, options)
  writer.errors = []
  writer.on('error', (err) => writer.errors.push(err))
  openClients.add(writer)
  const ready = new Promise((resolve, reject) => {
    writer.once('ready', resolve)
    writer.once('error', (err) => reject(new Error(`nsqjs Writer failed before ready: ${err.message || err}`)))
    writer.once('closed', () => reject(new Error('nsqjs Writer connection closed before ready')))
  })
  writer.qd = qd
  writer.connect()
  await withTimeout(ready, DEFAULT_WAIT_MS, 'nsqjs Writer ready', qd)
  return writer
}

/** If a client operation failed because qd went away, say so (with qd's log). */
async function explainFailure(qd, err) {
  if (qd) {
    await withTimeout(qd.exited, 500, 'qd exit').catch(() => {})
    if (qd.exitInfo && !String(err.message).includes('qd exited')) {
      err.message += ` (qd exited: ${safeJson(qd.exitInfo)})\n${qd.logTail()}`
    }
  }
  throw err
}

/** writer.publish as a promise (single message -> PUB, array of >1 -> MPUB). */
function publish(writer, topic, msgs) {
  return withTimeout(
    new Promise((resolve, reject) =>
      writer.publish(topic, msgs, (err) => (err ? reject(err) : resolve()))
    ),
    DEFAULT_WAIT_MS,
    `publish to ${topic}`,
    writer.qd
  ).catch((err) => explainFailure(writer.qd, err))
}

/**
 * writer.deferPublish as a promise. nsqjs 0.13.0 hands `msg` straight to produceMessages,
 * which requires an array, so the single message is wrapped here (still sent as one DPUB).
 */
function deferPublish(writer, topic, msg, delayMs) {
  return withTimeout(
    new Promise((resolve, reject) =>
      writer.deferPublish(topic, [msg], delayMs, (err) => (err ? reject(err) : resolve()))
    ),
    DEFAULT_WAIT_MS,
    `deferPublish to ${topic}`,
    writer.qd
  ).catch((err) => explainFailure(writer.qd, err))
}

/**
 * Creates an nsqjs Reader connected through nsqdTCPAddresses only. Every delivered message
 * is appended to reader.received as {msg, at, body, attempts, id}; `onMessage(msg, rec)`
 * (optional) decides what to do with it. Errors go to reader.errors.
 * Resolves once the first connection got SUB's OK ('ready').
 */
async function connectReader(qd, topic, channel, {onMessage, addresses, ...options} = {}) {
  addresses = addresses || [qd.tcpAddress]
  const reader = new nsq.Reader(topic, channel, {nsqdTCPAddresses: addresses, ...options})
  reader.received = []
  reader.errors = []
  reader.on('error', (err) => reader.errors.push(err))
  reader.on('message', (msg) => {
    const rec = {msg, at: now(), body: Buffer.from(msg.body), attempts: msg.attempts, id: msg.id}
    reader.received.push(rec)
    if (onMessage) onMessage(msg, rec)
  })
  openClients.add(reader)
  const what = `nsqjs Reader ${topic}/${channel} ready (SUB OK)`
  // Before SUB's OK every error frame is fatal (IDENTIFY/SUB rejected): fail fast with it.
  const failed = new Promise((resolve, reject) => {
    reader.once('error', (err) => reject(new Error(`${what} failed: ${err.message || err}`)))
    reader.once('nsqd_closed', (host, port) => reject(new Error(`${what} failed: connection to ${host}:${port} closed`)))
  })
  failed.catch(() => {}) // only observed through the race below
  let ready
  if (addresses.length === 1) {
    ready = new Promise((resolve) => reader.once('ready', resolve))
  } else {
    // nsqjs emits 'ready' only when it has exactly one connection id, i.e. never when it was
    // given several addresses; wait for every connection to have passed SUB instead.
    ready = waitFor(() => reader.readerRdy.connections.length === addresses.length, {message: what, qd})
  }
  reader.connect()
  await withTimeout(Promise.race([ready, failed]), DEFAULT_WAIT_MS, what, qd)
  return reader
}

/** The NSQDConnection objects of a reader (nsqjs internals; exposes IDENTIFY results). */
function readerConnections(reader) {
  return reader.readerRdy.connections.map((c) => c.conn)
}

function closeClient(client) {
  openClients.delete(client)
  try {
    client.close()
  } catch {
    // Already closed or never connected.
  }
}

function closeAll() {
  for (const c of [...openClients]) closeClient(c)
}

/** Waits until at least `n` messages were received by `reader`. */
function waitForReceived(reader, n, opts = {}) {
  return waitFor(() => reader.received.length >= n, {
    message: `reader ${reader.topic}/${reader.channel} to receive ${n} messages (has ${reader.received.length})`,
    ...opts,
  })
}

/** Returns a list of duplicate values in `arr`. */
function duplicates(arr) {
  const seen = new Set()
  const dups = []
  for (const v of arr) {
    if (seen.has(v)) dups.push(v)
    seen.add(v)
  }
  return dups
}

// Every qd started through useQd(); one after() hook stops them all (node:test skips the
// remaining after() hooks once one throws, so a per-instance hook could leak a process).
const usedQds = []
let cleanupRegistered = false

/**
 * Starts a qd (with extra flags, or an async function returning them) in before() and
 * returns a getter for it. All qds of the
 * file (and all nsqjs clients) are stopped in a single after() hook, which fails if a qd
 * crashed during the tests or did not shut down cleanly on SIGTERM.
 */
function useQd(extraArgs = []) {
  const {before, after} = require('node:test')
  const box = {qd: null}
  usedQds.push(box)
  before(async () => {
    // A function gives flags known only once something else is up (an auth server's port).
    box.qd = await startQd(typeof extraArgs === 'function' ? await extraArgs() : extraArgs)
  }, {timeout: START_TIMEOUT_MS + STOP_TIMEOUT_MS})
  if (!cleanupRegistered) {
    cleanupRegistered = true
    after(async () => {
      closeAll()
      const problems = []
      const results = await Promise.all(usedQds.map(async (b) => (b.qd ? [b.qd, await b.qd.stop()] : null)))
      for (const r of results) {
        if (!r) continue
        const [qd, res] = r
        if (res.alreadyExited) {
          problems.push(`qd had exited before the end of the tests: ${safeJson(res)}\n${qd.logTail()}`)
        } else if (res.killed) {
          problems.push(`qd did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${qd.logTail()}`)
        } else if (!(res.code === 0 || (res.code === null && res.signal === 'SIGTERM'))) {
          problems.push(`qd did not shut down cleanly on SIGTERM: ${safeJson(res)}\n${qd.logTail()}`)
        }
      }
      if (problems.length) throw new Error(problems.join('\n'))
    }, {timeout: STOP_TIMEOUT_MS + 5_000})
  }
  return () => box.qd
}

// Last resort: never leave a qd behind if this process dies some other way.
const liveProcs = new Set()
process.on('exit', () => {
  for (const p of liveProcs) {
    try {
      p.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
})

module.exports = {
  TEST_TIMEOUT_MS,
  startQd,
  useQd,
  waitFor,
  waitForChannel,
  waitForReceived,
  holdsFor,
  withTimeout,
  sleep,
  now,
  httpRequest,
  httpPub,
  httpMpub,
  stats,
  topicStats,
  channelStats,
  connectWriter,
  connectReader,
  readerConnections,
  publish,
  deferPublish,
  closeClient,
  closeAll,
  duplicates,
  nsq,
}
