'use strict'
// The real daemons for the browser tests: qlookupd, qd and qadmin as child processes on
// 127.0.0.1 port 0, ports read from their "TCP/HTTP: listening on" log lines, plus Chromium
// (Debian's /usr/bin/chromium) driven by playwright-core.
//
// Binaries come from $QD_BINARY, $QLOOKUPD_BINARY, $QADMIN_BINARY (ctest sets them) or
// build/release. Screenshots go to $SCREENSHOT_DIR (default build/release/artifacts/screenshots).

const {spawn} = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const REPO_ROOT = path.resolve(__dirname, '..', '..')
const BUILD = path.join(REPO_ROOT, 'build', 'release')
const BINARIES = {
  qd: process.env.QD_BINARY || path.join(BUILD, 'qd', 'qd'),
  qlookupd: process.env.QLOOKUPD_BINARY || path.join(BUILD, 'lookupd', 'qlookupd'),
  qadmin: process.env.QADMIN_BINARY || path.join(BUILD, 'admin', 'qadmin'),
}
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(BUILD, 'artifacts', 'screenshots')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const START_TIMEOUT_MS = 10_000

const running = new Set()

class Daemon {
  constructor(name, proc) {
    this.name = name
    this.proc = proc
    this.log = []
    this.exitInfo = null
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
      this.exitInfo = {code, signal}
      running.delete(this)
      resolve(this.exitInfo)
    }))
  }
  get httpAddress() { return `127.0.0.1:${this.httpPort}` }
  get tcpAddress() { return `127.0.0.1:${this.tcpPort}` }
  get url() { return `http://${this.httpAddress}` }
  logTail(n = 30) { return `--- ${this.name} log ---\n${this.log.slice(-n).join('\n')}` }
  kill() { if (!this.exitInfo) this.proc.kill('SIGKILL'); return this.exited }
  async stop() {
    if (this.exitInfo) return this.exitInfo
    this.proc.kill('SIGTERM')
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000)
    const info = await this.exited
    clearTimeout(t)
    return info
  }
}

// Starts binary `name` with args; resolves when the listen lines it prints have appeared.
function start(name, args, {tcp}) {
  const bin = BINARIES[name]
  if (!fs.existsSync(bin)) throw new Error(`${name} not found at ${bin}`)
  const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']})
  const d = new Daemon(name, proc)
  running.add(d)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { d.kill(); reject(new Error(`${name} did not start\n${d.logTail()}`)) }, START_TIMEOUT_MS)
    const onLine = (line) => {
      d.log.push(line)
      if (process.env.QD_LOG) process.stderr.write(`[${name}] ${line}\n`)
      let m = /TCP: listening on \S+:(\d+)/.exec(line)
      if (m) d.tcpPort = Number(m[1])
      m = /HTTP: listening on \S+:(\d+)/.exec(line)
      if (m) d.httpPort = Number(m[1])
      if (d.httpPort && (d.tcpPort || !tcp)) { clearTimeout(timer); resolve(d) }
    }
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => {
        buf += chunk
        let i
        while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
      })
    }
    d.exited.then((info) => { clearTimeout(timer); reject(new Error(`${name} exited ${JSON.stringify(info)}\n${d.logTail()}`)) })
  })
}

const startLookupd = () => start('qlookupd', ['--tcp-address=127.0.0.1:0', '--http-address=127.0.0.1:0',
  '--broadcast-address=127.0.0.1'], {tcp: true})

function startQd(lookupd) {
  const dataPath = fs.mkdtempSync(path.join(os.tmpdir(), 'qadmin-browser-'))
  return start('qd', ['--tcp-address=127.0.0.1:0', '--http-address=127.0.0.1:0', `--data-path=${dataPath}`,
    '--broadcast-address=127.0.0.1', ...(lookupd ? [`--lookupd-tcp-address=${lookupd.tcpAddress}`] : [])], {tcp: true})
    .then((d) => { d.dataPath = dataPath; return d })
}

const startAdmin = (flags) => start('qadmin', ['--http-address=127.0.0.1:0', ...flags], {tcp: false})

async function stopAll() {
  const problems = []
  for (const d of [...running]) {
    const info = await d.stop()
    if (info.code !== 0) problems.push(`${d.name} exited ${JSON.stringify(info)}\n${d.logTail()}`)
    if (d.dataPath) fs.rmSync(d.dataPath, {recursive: true, force: true})
  }
  return problems
}

async function http(base, method, pathAndQuery, body) {
  const res = await fetch(base + pathAndQuery, {method, body})
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${pathAndQuery}: ${res.status} ${text}`)
  try { return JSON.parse(text) } catch { return text }
}
const stats = (qd) => http(qd.url, 'GET', '/stats?format=json')
async function topicStats(qd, topic) {
  return (await stats(qd)).topics.find((t) => t.topic_name === topic)
}
async function channelStats(qd, topic, channel) {
  const t = await topicStats(qd, topic)
  return t && t.channels.find((c) => c.channel_name === channel)
}

async function waitFor(fn, {timeout = 8000, interval = 50, message = 'condition'} = {}) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try { if (await fn()) return } catch (e) { last = e }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}${last ? ': ' + last.message : ''}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}

// A minimal V2 consumer: IDENTIFY, SUB, RDY rdy, and never FIN, so its messages stay in flight.
function subscribe(qd, topic, channel, {rdy = 1, userAgent = 'browser-test/1.0'} = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(qd.tcpPort, '127.0.0.1', () => {
      const identify = Buffer.from(JSON.stringify({client_id: 'worker', hostname: 'worker-host', user_agent: userAgent}))
      const len = Buffer.alloc(4)
      len.writeUInt32BE(identify.length)
      sock.write(Buffer.concat([Buffer.from('  V2IDENTIFY\n'), len, identify,
        Buffer.from(`SUB ${topic} ${channel}\nRDY ${rdy}\n`)]))
      resolve(sock)
    })
    sock.on('error', reject)
    sock.on('data', () => {})
  })
}

async function launchBrowser() {
  const {chromium} = require('playwright-core')
  return chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new']})
}

async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, {recursive: true})
  await page.screenshot({path: path.join(SCREENSHOT_DIR, name + '.png'), fullPage: true})
}

// Opens #/route on qadmin and waits until the page drew it from a fresh /api answer.
async function openView(page, admin, route, base = '/') {
  await page.goto(`${admin.url}${base}#/${route}`)
  await page.waitForFunction(() => document.body.dataset.loaded !== undefined)
}

// The page refreshes every 2 s; waits until a cell shows want (a number or text).
async function waitForCell(page, selector, want, timeout = 8000) {
  const norm = (s) => String(s).replace(/(\d),(\d)/g, '$1$2').trim()
  try {
    await page.waitForFunction(([sel, w]) => {
      const el = document.querySelector(sel)
      return el && el.textContent.replace(/(\d),(\d)/g, '$1$2').trim() === w
    }, [selector, norm(want)], {timeout})
  } catch (e) {
    const seen = await page.locator(selector).first().textContent({timeout: 100}).catch(() => '(no such element)')
    throw new Error(`${selector}: want "${norm(want)}", page shows "${seen}"`)
  }
}

module.exports = {
  startLookupd, startQd, startAdmin, stopAll, http, stats, topicStats, channelStats, waitFor, subscribe,
  launchBrowser, screenshot, openView, waitForCell, SCREENSHOT_DIR,
}
