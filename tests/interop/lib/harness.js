"use strict";

// Runs one test body against its own omw-server and cleans up after it: every client is
// disconnected, every rider process killed, and the server stopped. A server that exited on
// its own during the test, or did not exit with status 0 on SIGTERM, fails the test. On
// failure the recorded frames and the server's log are printed as test diagnostics.

const assert = require("node:assert/strict");

const { Client, formatFrames } = require("./phoenix");
const { RemoteRider } = require("./remote-rider");
const { startServer } = require("./server");

// Server options for every test, keyed by option name. The rider grace period is short enough
// for a test suite and long enough for a rider to come back on a loaded machine.
const DEFAULT_OPTIONS = { "--rider-grace": "5" };

// Runs `body(context)` with a fresh server started with DEFAULT_OPTIONS, overridden and
// extended by `options` (e.g. {"--idle-timeout": "0.5"}). The context offers `url`,
// `client(variant, label, socketOptions, wsOptions)`, `rider()` and `frames`.
async function withServer(t, options, body) {
  const merged = { ...DEFAULT_OPTIONS, ...options };
  const server = await startServer(Object.entries(merged).flat());
  const frames = [];
  const clients = [];
  const riders = [];
  const context = {
    url: server.url,
    server,
    frames,
    client(variant, label, socketOptions = {}, wsOptions = {}) {
      const client = new Client(variant, server.url, { label, frames, socketOptions, wsOptions });
      clients.push(client);
      return client;
    },
    rider() {
      const rider = new RemoteRider(frames);
      riders.push(rider);
      return rider;
    },
  };

  const cleanUp = async () => {
    await Promise.allSettled(clients.map((client) => client.disconnect()));
    await Promise.allSettled(riders.map((rider) => rider.kill()));
    return server.stop();
  };

  try {
    await body(context);
    assertFrameShapes(frames);
    assert.ok(
      server.isRunning(),
      `omw-server exited during the test: ${JSON.stringify(server.exit)}`
    );
    const exit = await cleanUp();
    assert.deepEqual(exit, { code: 0, signal: null }, "omw-server did not stop cleanly on SIGTERM");
  } catch (error) {
    t.diagnostic(`frames seen by the clients:\n${formatFrames(frames)}`);
    t.diagnostic(`omw-server output:\n${server.log}`);
    throw error;
  } finally {
    await cleanUp();
  }
}

// Asserts that every frame the server sent has the envelope of the connection's serializer: a
// V2 frame is an array [join_ref, ref, topic, event, payload], a V1 frame an object with exactly
// the keys topic, event, payload and ref. Payloads are always objects, except a reply's response.
function assertFrameShapes(frames) {
  for (const frame of frames.filter(({ direction }) => direction === "in")) {
    const decoded = JSON.parse(frame.data);
    if (frame.serializer === "V2") {
      assert.ok(Array.isArray(decoded), `V2 frame is not an array: ${frame.data}`);
      assert.equal(decoded.length, 5, `V2 frame does not have 5 elements: ${frame.data}`);
      assert.equal(typeof decoded[2], "string", `V2 frame's topic is not a string: ${frame.data}`);
      assert.equal(typeof decoded[3], "string", `V2 frame's event is not a string: ${frame.data}`);
      assertObject(decoded[4], frame.data);
    } else {
      assertObject(decoded, frame.data);
      assert.deepEqual(
        Object.keys(decoded).sort(),
        ["event", "payload", "ref", "topic"],
        `V1 frame has other keys than topic, event, payload and ref: ${frame.data}`
      );
      assertObject(decoded.payload, frame.data);
    }
  }
}

function assertObject(value, frame) {
  assert.ok(
    value !== null && typeof value === "object" && !Array.isArray(value),
    `payload is not a JSON object in ${frame}`
  );
}

// Asserts that `value` is an epoch-millisecond time within [notBefore, notAfter], both taken
// from Date.now() around the event. The server reads the same clock, so no slack is needed.
function assertTimeWithin(value, notBefore, notAfter, description) {
  const valueJson = JSON.stringify(value);
  assert.equal(typeof value, "number", `${description} is not a number: ${valueJson}`);
  assert.ok(Number.isInteger(value), `${description} is not whole milliseconds: ${valueJson}`);
  assert.ok(
    value >= notBefore && value <= notAfter,
    `${description} ${value} is outside [${notBefore}, ${notAfter}]`
  );
}

module.exports = { assertTimeWithin, withServer };
