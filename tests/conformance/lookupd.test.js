'use strict'
// Discovery through qlookupd: an nsqjs Reader given only lookupdHTTPAddresses finds every
// qd that has its topic, consumes from all of them, and picks up a qd that gets the topic
// later (whose channel was pre-created from lookupd, so nothing published there is lost).
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')
const c = require('./cluster')

const getCluster = c.useCluster({lookupds: 2, qds: 2})

function sortedPorts(qds) {
  return qds.map((q) => q.tcpPort).sort((a, b) => a - b)
}

async function waitForLookup(lookupds, topic, qds) {
  const want = JSON.stringify(sortedPorts(qds))
  for (const l of lookupds) {
    await h.waitFor(async () => JSON.stringify(await c.lookupTcpPorts(l, topic)) === want, {
      message: `lookupd ${l.httpAddress} to list ${want} for ${topic}`,
      qd: l,
    })
  }
}

test('Reader with only lookupdHTTPAddresses consumes from every producer', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const {lookupds, qds} = getCluster()
  const topic = 'lookup_all'
  // Published before any consumer: each qd holds the message in the topic until a channel
  // exists, and registers the topic with both lookupds.
  await h.httpPub(qds[0], topic, 'early-0')
  await h.httpPub(qds[1], topic, 'early-1')
  await waitForLookup(lookupds, topic, qds)

  // connectReader's `addresses` are nsqdTCPAddresses: none here, only the lookupds.
  const reader = await h.connectReader(qds[0], topic, 'ch', {
    addresses: [],
    lookupdHTTPAddresses: lookupds.map((l) => l.httpAddress),
    lookupdPollInterval: 1,
    maxInFlight: 10,
    onMessage: (m) => m.finish(),
  })
  try {
    await h.waitFor(() => reader.readerRdy.connections.length === 2, {message: 'a connection to each qd'})
    const peers = h.readerConnections(reader).map((conn) => `${conn.nsqdHost}:${conn.nsqdPort}`).sort()
    assert.deepEqual(peers, qds.map((q) => q.tcpAddress).sort())

    const writers = [await h.connectWriter(qds[0]), await h.connectWriter(qds[1])]
    for (let i = 0; i < 5; i++) {
      await h.publish(writers[0], topic, `a-${i}`)
      await h.publish(writers[1], topic, `b-${i}`)
    }
    await h.waitForReceived(reader, 12)
    const expected = ['early-0', 'early-1']
    for (let i = 0; i < 5; i++) expected.push(`a-${i}`, `b-${i}`)
    assert.deepEqual(reader.received.map((r) => r.body.toString()).sort(), expected.sort())
    assert.deepEqual(reader.errors, [])
  } finally {
    h.closeClient(reader)
  }
})

test('Reader discovers a qd that gets the topic later; its channel was pre-created', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const {lookupds, qds} = getCluster()
  const topic = 'lookup_later'
  await h.httpPub(qds[0], topic, 'from-0')
  await waitForLookup(lookupds, topic, [qds[0]])

  const got = []
  const reader = await h.connectReader(qds[0], topic, 'ch', {
    addresses: [],
    lookupdHTTPAddresses: lookupds.map((l) => l.httpAddress),
    lookupdPollInterval: 1,
    onMessage: (m) => {
      got.push(m.body.toString())
      m.finish()
    },
  })
  try {
    await h.waitFor(() => got.includes('from-0'), {message: 'message from qd 0'})
    // Another consumer group that has no consumer right now, known only to qd 0.
    await h.httpRequest(qds[0], 'POST', `/channel/create?topic=${topic}&channel=audit`)
    for (const l of lookupds) {
      await h.waitFor(async () => {
        const r = await h.httpRequest(l, 'GET', `/channels?topic=${topic}`)
        return JSON.parse(r.text).channels.sort().join() === 'audit,ch'
      }, {message: `lookupd ${l.httpAddress} to know channels audit and ch`, qd: l})
    }
    // qd 1 creates both channels as soon as the topic appears there, so what is published
    // before the Reader finds qd 1 waits in "ch", and "audit" gets its copy too.
    await h.httpPub(qds[1], topic, 'from-1-before-discovery')
    await h.waitForChannel(qds[1], topic, 'audit', (ch) => ch.depth === 1, 'audit pre-created on qd 1 with the message')
    await h.waitFor(() => reader.readerRdy.connections.length === 2, {message: 'Reader found qd 1 through lookupd'})
    await h.httpPub(qds[1], topic, 'from-1-after')
    await h.waitFor(() => got.length === 3, {message: `3 messages (have ${JSON.stringify(got)})`})
    assert.deepEqual([...got].sort(), ['from-0', 'from-1-after', 'from-1-before-discovery'])
    assert.deepEqual(reader.errors, [])
  } finally {
    h.closeClient(reader)
  }
})
