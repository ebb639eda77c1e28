'use strict'
// qadmin's actions clicked in Chromium against a real cluster (qlookupd + 2 qd): pause,
// empty, delete, tombstone and create, each confirmed in the dialog, change the daemons; a
// cancelled one does not; a qd killed mid-test shows as unreachable.
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const d = require('./daemons')

let lookupd, qds = [], admin, browser, page

before(async () => {
  lookupd = await d.startLookupd()
  qds = [await d.startQd(lookupd), await d.startQd(lookupd)]
  admin = await d.startAdmin([`--lookupd-http-address=${lookupd.httpAddress}`])
  for (const qd of qds) {
    await d.http(qd.url, 'POST', '/topic/create?topic=jobs')
    await d.http(qd.url, 'POST', '/channel/create?topic=jobs&channel=work')
    for (let k = 0; k < 4; k++) await d.http(qd.url, 'POST', '/pub?topic=jobs', `m${k}`)
  }
  await d.waitFor(async () => (await d.http(lookupd.url, 'GET', '/lookup?topic=jobs')).producers.length === 2,
    {message: 'both qd registered'})
  browser = await d.launchBrowser()
  page = await browser.newPage({viewport: {width: 1280, height: 800}})
  page.setDefaultTimeout(8000)
  page.on('pageerror', (e) => { throw e })
})

after(async () => {
  if (browser) await browser.close()
  const problems = await d.stopAll()
  // qd 1 is killed on purpose by the last test.
  assert.deepEqual(problems.filter((p) => !p.includes('"signal":"SIGKILL"')), [])
})

async function clickAndConfirm(selector, {confirm = true, shot} = {}) {
  await page.click(selector)
  await page.waitForSelector('#confirm[open]')
  if (shot) await d.screenshot(page, shot)
  await page.click(confirm ? '#confirm-ok' : '#confirm-cancel')
  await page.waitForSelector('#confirm[open]', {state: 'detached'})
}
const everyQd = (fn, message) => d.waitFor(async () => {
  for (const qd of qds) if (!(await fn(qd))) return false
  return true
}, {message})

test('pause and unpause a topic', async () => {
  await d.openView(page, admin, 'topic/jobs')
  await page.waitForSelector('#topic-nodes')
  await clickAndConfirm('button[data-action="pause"]', {shot: 'confirm'})
  await everyQd(async (qd) => (await d.topicStats(qd, 'jobs')).paused === true, 'topic paused on both qd')
  await page.waitForSelector('#paused-badge .paused')
  await clickAndConfirm('button[data-action="unpause"]')
  await everyQd(async (qd) => (await d.topicStats(qd, 'jobs')).paused === false, 'topic unpaused on both qd')
  await page.waitForSelector('#paused-badge .paused', {state: 'detached'})
})

test('empty a channel; a cancelled delete leaves it; a confirmed one removes it', async () => {
  await page.click('#topic-channels tr[data-channel="work"] a')
  await page.waitForSelector('#channel-totals')
  await d.waitForCell(page, '#channel-totals td[data-field="depth"]', 8)
  await clickAndConfirm('button[data-action="empty"]')
  await everyQd(async (qd) => (await d.channelStats(qd, 'jobs', 'work')).depth === 0, 'channel empty on both qd')
  await d.waitForCell(page, '#channel-totals td[data-field="depth"]', 0)

  await clickAndConfirm('button[data-action="delete"]', {confirm: false})
  for (const qd of qds) assert.ok(await d.channelStats(qd, 'jobs', 'work'), 'cancelled delete removed the channel')

  await clickAndConfirm('button[data-action="delete"]')
  await everyQd(async (qd) => !(await d.channelStats(qd, 'jobs', 'work')), 'channel deleted on both qd')
  await page.waitForFunction(() => location.hash === '#/topic/jobs')
})

test('tombstone a producer, then delete the topic', async () => {
  await page.waitForSelector(`#topic-nodes tr[data-node="${qds[0].httpAddress}"]`)
  await clickAndConfirm(`button[data-tombstone="${qds[0].httpAddress}"]`)
  await d.waitFor(async () => {
    const r = await d.http(lookupd.url, 'GET', '/lookup?topic=jobs')
    return r.producers.length === 1 && r.producers[0].tcp_port === qds[1].tcpPort
  }, {message: 'qd 0 tombstoned in the lookupd'})

  await clickAndConfirm('button[data-action="delete"]')
  await everyQd(async (qd) => !(await d.topicStats(qd, 'jobs')), 'topic deleted on both qd')
  await page.waitForFunction(() => location.hash === '#/topics')
})

test('create a topic and channel through the qlookupd', async () => {
  await d.openView(page, admin, 'topics')
  await page.fill('#create-topic', 'made')
  await page.fill('#create-channel', 'here')
  await clickAndConfirm('#create-form button[type="submit"]')
  await d.waitFor(async () => (await d.http(lookupd.url, 'GET', '/channels?topic=made')).channels.includes('here'),
    {message: 'topic and channel in the lookupd'})
  await page.waitForSelector('tr[data-topic="made"]')
})

test('a qd killed mid-test shows as unreachable', async () => {
  // nsqadmin's mode without a lookupd: the qd list is fixed, so a dead one stays listed.
  const fixed = await d.startAdmin(qds.map((q) => `--nsqd-http-address=${q.httpAddress}`))
  await d.openView(page, fixed, 'nodes')
  const row = (q) => `#nodes-table tr[data-node="${q.httpAddress}"] td[data-field="status"]`
  await d.waitForCell(page, row(qds[1]), 'ok')
  await qds[1].kill()
  await d.waitForCell(page, row(qds[1]), 'unreachable')
  await d.waitForCell(page, row(qds[0]), 'ok')
  await page.waitForSelector(`#errors .unreachable[data-node="${qds[1].httpAddress}"]`)
  await d.screenshot(page, 'unreachable')
})
