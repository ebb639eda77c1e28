'use strict'
// Every qadmin view in Chromium against a real cluster (qlookupd + 2 qd): the numbers the
// page shows are the ones the qd report in /stats. A screenshot of each view is written to
// the artifacts directory (docs/images/ holds copies for docs/admin.md).
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const d = require('./daemons')

let lookupd, qds = [], admin, browser, page, consumer

before(async () => {
  lookupd = await d.startLookupd()
  qds = [await d.startQd(lookupd), await d.startQd(lookupd)]
  admin = await d.startAdmin([`--lookupd-http-address=${lookupd.httpAddress}`])
  for (const [i, qd] of qds.entries()) {
    for (const [topic, channels] of [['orders', ['billing', 'shipping']], ['audit', []]]) {
      await d.http(qd.url, 'POST', `/topic/create?topic=${topic}`)
      for (const c of channels) await d.http(qd.url, 'POST', `/channel/create?topic=${topic}&channel=${c}`)
      for (let k = 0; k < 3 + i * 2; k++) await d.http(qd.url, 'POST', `/pub?topic=${topic}`, `m${k}`)
    }
  }
  consumer = await d.subscribe(qds[0], 'orders', 'billing', {rdy: 2})
  await d.waitFor(async () => (await d.channelStats(qds[0], 'orders', 'billing')).in_flight_count === 2,
    {message: 'two messages in flight'})
  await d.waitFor(async () => {
    const r = await d.http(lookupd.url, 'GET', '/lookup?topic=orders')
    return r.producers.length === 2
  }, {message: 'both qd registered'})
  browser = await d.launchBrowser()
  page = await browser.newPage({viewport: {width: 1280, height: 800}})
  page.setDefaultTimeout(8000)
  page.on('pageerror', (e) => { throw e })
})

after(async () => {
  if (consumer) consumer.destroy()
  if (browser) await browser.close()
  const problems = await d.stopAll()
  assert.deepEqual(problems, [])
})

const cell = (row, field) => `${row} td[data-field="${field}"]`

test('topics view: depth, messages and channels per topic', async () => {
  await d.openView(page, admin, 'topics')
  let depth = 0, messages = 0
  for (const qd of qds) {
    const t = await d.topicStats(qd, 'audit')
    depth += t.depth
    messages += t.message_count
  }
  assert.equal(depth, 8)
  await d.waitForCell(page, cell('tr[data-topic="audit"]', 'depth'), depth)
  await d.waitForCell(page, cell('tr[data-topic="audit"]', 'message_count'), messages)
  await d.waitForCell(page, cell('tr[data-topic="orders"]', 'message_count'), 8)
  await d.waitForCell(page, cell('tr[data-topic="orders"]', 'node_count'), 2)
  assert.equal(await page.textContent(cell('tr[data-topic="orders"]', 'channels')), 'billing, shipping')
  assert.equal(await page.locator('canvas#chart-rate').count(), 1)
  await d.screenshot(page, 'topics')
})

test('topic view: per-node depth and the channels with their counters', async () => {
  await page.click('tr[data-topic="orders"] a')
  await page.waitForSelector('#topic-nodes')
  for (const qd of qds) {
    const t = await d.topicStats(qd, 'orders')
    await d.waitForCell(page, cell(`#topic-nodes tr[data-node="${qd.httpAddress}"]`, 'message_count'), t.message_count)
    await d.waitForCell(page, cell(`#topic-nodes tr[data-node="${qd.httpAddress}"]`, 'depth'), t.depth)
  }
  const billing = [await d.channelStats(qds[0], 'orders', 'billing'), await d.channelStats(qds[1], 'orders', 'billing')]
  const sum = (k) => billing[0][k] + billing[1][k]
  for (const k of ['depth', 'in_flight_count', 'deferred_count', 'requeue_count', 'timeout_count', 'client_count']) {
    await d.waitForCell(page, cell('#topic-channels tr[data-channel="billing"]', k), sum(k))
  }
  assert.equal(sum('in_flight_count'), 2)
  await d.screenshot(page, 'topic')
})

test('channel view: every client with its address, user agent, RDY and counts', async () => {
  await page.click('#topic-channels tr[data-channel="billing"] a')
  await page.waitForSelector('#channel-clients')
  const c = await d.channelStats(qds[0], 'orders', 'billing')
  assert.equal(c.clients.length, 1)
  const client = c.clients[0]
  const row = `#channel-clients tr[data-client="${client.remote_address}"]`
  await d.waitForCell(page, cell(row, 'user_agent'), 'browser-test/1.0')
  await d.waitForCell(page, cell(row, 'ready_count'), client.ready_count)
  await d.waitForCell(page, cell(row, 'in_flight_count'), 2)
  await d.waitForCell(page, cell(row, 'finish_count'), client.finish_count)
  await d.waitForCell(page, cell(row, 'remote_address'), client.remote_address)
  await d.waitForCell(page, cell('#channel-totals', 'in_flight_count'), 2)
  assert.match(await page.textContent(cell(row, 'connect_ts')), /^\d+[smh]/)
  await d.screenshot(page, 'channel')
})

test('nodes and node views: version, address and topics of each qd', async () => {
  await d.openView(page, admin, 'nodes')
  for (const qd of qds) {
    const s = await d.stats(qd)
    const row = `#nodes-table tr[data-node="${qd.httpAddress}"]`
    await d.waitForCell(page, cell(row, 'version'), s.version)
    await d.waitForCell(page, cell(row, 'tcp_port'), qd.tcpPort)
    await d.waitForCell(page, cell(row, 'topics'), 'audit, orders')
    await d.waitForCell(page, cell(row, 'status'), 'ok')
  }
  await d.screenshot(page, 'nodes')
  await page.click(`#nodes-table tr[data-node="${qds[1].httpAddress}"] a`)
  await page.waitForSelector('#node-topics')
  const t = await d.topicStats(qds[1], 'audit')
  await d.waitForCell(page, cell('#node-topics tr[data-topic="audit"]', 'depth'), t.depth)
  await d.screenshot(page, 'node')
})

test('lookup view: topics, channels and producers each qlookupd knows', async () => {
  await d.openView(page, admin, 'lookup')
  const row = `section[data-lookupd="${lookupd.httpAddress}"] tr[data-topic="orders"]`
  await d.waitForCell(page, cell(row, 'channels'), 'billing, shipping')
  const producers = (await page.textContent(cell(row, 'producers'))).split(', ').sort()
  assert.deepEqual(producers, qds.map((q) => q.httpAddress).sort())
  await d.screenshot(page, 'lookup')
})

test('under --base-path the page and its API calls live below the prefix', async () => {
  const based = await d.startAdmin([`--lookupd-http-address=${lookupd.httpAddress}`, '--base-path=/ops'])
  await d.openView(page, based, 'topics', '/ops/')
  await d.waitForCell(page, cell('tr[data-topic="orders"]', 'message_count'), 8)
  await based.stop()
})

test('topic view: half messages (transactions) per node and in total, only where there are any', async () => {
  // qds[0]: one pending, one committed, one rolled back; qds[1]: one pending.
  const txpub = (qd, txid) => d.http(qd.url, 'POST', `/txpub?topic=payments&txid=${txid}&tx_group=shop`, `p-${txid}`)
  await txpub(qds[0], 'a1')
  await txpub(qds[0], 'a2')
  await d.http(qds[0].url, 'POST', '/txcommit?topic=payments&txid=a2')
  await txpub(qds[0], 'a3')
  await d.http(qds[0].url, 'POST', '/txrollback?topic=payments&txid=a3')
  await txpub(qds[1], 'b1')
  await d.openView(page, admin, 'topic/payments')
  await page.waitForSelector('#topic-tx')
  const row = (qd) => `#topic-tx tr[data-node="${qd.httpAddress}"]`
  const want = {tx_pending: 1, tx_committed: 1, tx_rolled_back: 1, tx_expired: 0}
  for (const [k, v] of Object.entries(want)) {
    await d.waitForCell(page, cell(row(qds[0]), k), v)
    assert.equal((await d.topicStats(qds[0], 'payments'))[k], v)
  }
  await d.waitForCell(page, cell(row(qds[1]), 'tx_pending'), 1)
  await d.waitForCell(page, cell('#topic-tx tr[data-node="total"]', 'tx_pending'), 2)
  await d.waitForCell(page, cell('#topic-tx tr[data-node="total"]', 'tx_committed'), 1)
  await d.screenshot(page, 'topic-transactions')
  // A topic that never had a half message has no such table.
  await d.openView(page, admin, 'topic/orders')
  await page.waitForSelector('#topic-channels')
  assert.equal(await page.locator('#topic-tx').count(), 0)
})
