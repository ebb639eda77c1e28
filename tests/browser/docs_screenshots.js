'use strict'
// Regenerates docs/images/qadmin-*.png for docs/admin.md: a cluster (qlookupd + 2 qd) with
// a little steady traffic, so the charts have something to show. Not a test; run by hand:
//   node tests/browser/docs_screenshots.js      (after building build/release)
const path = require('node:path')
const d = require('./daemons')

const OUT = path.resolve(__dirname, '..', '..', 'docs', 'images')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function main() {
  const lookupd = await d.startLookupd()
  const qds = [await d.startQd(lookupd), await d.startQd(lookupd)]
  const admin = await d.startAdmin([`--lookupd-http-address=${lookupd.httpAddress}`])
  const consumers = []
  try {
    for (const qd of qds) {
      for (const [topic, channels] of [['orders', ['billing', 'shipping']], ['clicks', ['archive']], ['audit', []]]) {
        await d.http(qd.url, 'POST', `/topic/create?topic=${topic}`)
        for (const c of channels) await d.http(qd.url, 'POST', `/channel/create?topic=${topic}&channel=${c}`)
      }
    }
    consumers.push(await d.subscribe(qds[0], 'orders', 'billing', {rdy: 5, userAgent: 'billing-worker/2.1'}))
    consumers.push(await d.subscribe(qds[1], 'orders', 'billing', {rdy: 5, userAgent: 'billing-worker/2.1'}))
    const t0 = Date.now()
    // Uneven traffic so the rate chart has a shape: 40 s before the first screenshot, and on
    // until the last one.
    let publishing = true
    const traffic = (async () => {
      while (publishing) {
      const second = Math.floor((Date.now() - t0) / 1000)
      const burst = 3 + Math.round(6 * Math.abs(Math.sin(second / 5)))
      for (const [i, qd] of qds.entries()) {
        for (let k = 0; k < burst + i; k++) await d.http(qd.url, 'POST', '/pub?topic=orders', 'o')
        await d.http(qd.url, 'POST', '/pub?topic=clicks', 'c')
        if (second % 4 === 0) await d.http(qd.url, 'POST', '/pub?topic=audit', 'a')
      }
      await sleep(250)
      }
    })()
    await sleep(40_000)
    await d.http(qds[1].url, 'POST', '/channel/pause?topic=clicks&channel=archive')
    process.env.SCREENSHOT_DIR = OUT
    const browser = await d.launchBrowser()
    const page = await browser.newPage({viewport: {width: 1280, height: 800}})
    const shot = async (route, name, sel) => {
      await d.openView(page, admin, route)
      await page.waitForSelector(sel)
      await sleep(300)
      await page.screenshot({path: path.join(OUT, `qadmin-${name}.png`), fullPage: true})
    }
    await shot('topics', 'topics', '#topics-table')
    await shot('topic/orders', 'topic', '#topic-channels')
    await shot('topic/orders/billing', 'channel', '#channel-clients')
    await shot('nodes', 'nodes', '#nodes-table')
    await shot(`node/${qds[0].httpAddress}`, 'node', '#node-topics')
    await shot('lookup', 'lookup', 'section.lookupd')
    await page.goto(`${admin.url}/#/topic/orders`)
    await page.waitForSelector('#topic-nodes')
    await page.click('button[data-action="empty"]')
    await page.waitForSelector('#confirm[open]')
    await page.screenshot({path: path.join(OUT, 'qadmin-confirm.png')})
    await page.click('#confirm-cancel')
    await browser.close()
    publishing = false
    await traffic
  } finally {
    for (const c of consumers) c.destroy()
    await d.stopAll()
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
