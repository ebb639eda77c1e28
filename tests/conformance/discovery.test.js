'use strict'
// Direct discovery: Readers configured with nsqdTCPAddresses only (no lookupd). Covers the
// connection handshake nsqjs performs (magic, IDENTIFY with feature negotiation, SUB, RDY)
// and what qd reports about it, plus one Reader spread over two qd instances.
const {test} = require('node:test')
const assert = require('node:assert/strict')
const h = require('./harness')

const getQd = h.useQd()
const getQd2 = h.useQd()

test('Reader with nsqdTCPAddresses connects, negotiates IDENTIFY and SUBs; qd reports the consumer', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qd = getQd()
  const topic = 'discovery_direct'
  const channel = 'ch'
  const connected = []
  const reader = new h.nsq.Reader(topic, channel, {
    nsqdTCPAddresses: qd.tcpAddress, // a bare string is accepted too
    maxInFlight: 7,
    clientId: 'conformance-client',
  })
  const errors = []
  reader.on('error', (e) => errors.push(e))
  reader.on('nsqd_connected', (host, port) => connected.push(`${host}:${port}`))
  const got = []
  reader.on('message', (m) => {
    got.push(m.body.toString())
    m.finish()
  })
  const ready = new Promise((resolve) => reader.once('ready', resolve))
  reader.connect()
  try {
    await h.withTimeout(ready, 10_000, 'reader ready', qd)
    assert.deepEqual(connected, [qd.tcpAddress], 'nsqd_connected emitted for the configured address')

    // IDENTIFY response as nsqjs parsed it (feature_negotiation=true -> JSON).
    const [conn] = h.readerConnections(reader)
    assert.equal(conn.maxRdyCount, 2500, 'max_rdy_count default')
    assert.equal(conn.maxMsgTimeout, 15 * 60 * 1000, 'max_msg_timeout default (ms)')
    assert.equal(conn.msgTimeout, 60 * 1000, 'msg_timeout default (ms)')
    assert.match(String(conn.nsqdVersion), /^\d+\.\d+\.\d+/, 'version is semver')

    // SUB created topic and channel; qd lists the consumer with what nsqjs sent.
    const ch = await h.waitForChannel(
      qd, topic, channel,
      (c) => c.client_count === 1 && c.clients.length === 1 && c.clients[0].ready_count === 7,
      'one consumer with RDY 7'
    )
    const cl = ch.clients[0]
    assert.equal(cl.client_id, 'conformance-client')
    assert.equal(cl.user_agent, `nsqjs/${require('nsqjs/package.json').version}`)
    assert.equal(cl.state, 3, 'state SUBSCRIBED')
    assert.equal(cl.version, 'V2')
    assert.equal(cl.in_flight_count, 0)
    assert.match(cl.remote_address, /^127\.0\.0\.1:\d+$/)

    await h.httpPub(qd, topic, 'found-you')
    await h.waitFor(() => got.length === 1, {message: 'message delivered', qd})
    assert.deepEqual(got, ['found-you'])
    assert.deepEqual(errors, [])
  } finally {
    reader.close()
  }
  // Closing the reader removes the consumer from the channel.
  await h.waitForChannel(qd, topic, channel, (c) => c.client_count === 0, 'consumer gone after close')
})

test('one Reader with two nsqdTCPAddresses consumes from both qd instances', {timeout: h.TEST_TIMEOUT_MS}, async () => {
  const qdA = getQd()
  const qdB = getQd2()
  const topic = 'discovery_two'
  const channel = 'ch'
  const reader = await h.connectReader(qdA, topic, channel, {
    addresses: [qdA.tcpAddress, qdB.tcpAddress],
    maxInFlight: 4,
    onMessage: (m) => m.finish(),
  })
  // RDY is split across the two connections (4 / 2 each).
  for (const qd of [qdA, qdB]) {
    await h.waitForChannel(
      qd, topic, channel,
      (c) => c.clients.length === 1 && c.clients[0].ready_count === 2,
      `consumer with RDY 2 on ${qd.tcpAddress}`
    )
  }
  const wA = await h.connectWriter(qdA)
  const wB = await h.connectWriter(qdB)
  for (let i = 0; i < 10; i++) {
    await h.publish(wA, topic, `A-${i}`)
    await h.publish(wB, topic, `B-${i}`)
  }
  await h.waitForReceived(reader, 20, {qd: qdA})
  const bodies = reader.received.map((r) => r.body.toString()).sort()
  const expected = []
  for (let i = 0; i < 10; i++) expected.push(`A-${i}`, `B-${i}`)
  assert.deepEqual(bodies, expected.sort())
  for (const qd of [qdA, qdB]) {
    await h.waitForChannel(qd, topic, channel, (c) => c.in_flight_count === 0 && c.depth === 0, `drained on ${qd.tcpAddress}`)
  }
  assert.deepEqual(reader.errors, [])
  h.closeClient(reader)
  h.closeClient(wA)
  h.closeClient(wB)
})
