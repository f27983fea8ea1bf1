"use strict";

// The WebSocket transport as the official phoenix.js client uses it: heartbeats, the idle
// timeout and the subprotocols that phoenix.js 1.8 offers with `authToken`.

const assert = require("node:assert/strict");
const { describe, test } = require("node:test");

const { VARIANTS, withTimeout } = require("./lib/phoenix");
const { withServer } = require("./lib/harness");

const TEST_TIMEOUT_MS = 30000;
const IDLE_TIMEOUT_MS = 500;
// phoenix.js closes the socket when a heartbeat reply takes longer than this, so it leaves room
// for a loaded machine.
const HEARTBEAT_INTERVAL_MS = 200;
// Enough heartbeats to outlast the idle timeout twice.
const HEARTBEATS = (2 * IDLE_TIMEOUT_MS) / HEARTBEAT_INTERVAL_MS + 1;

// Returns the reply frame the server sends to heartbeat `ref` in `serializer`.
function heartbeatReply(serializer, ref) {
  const payload = { status: "ok", response: {} };
  if (serializer === "V2") {
    return [null, ref, "phoenix", "phx_reply", payload];
  }
  return { topic: "phoenix", event: "phx_reply", payload, ref };
}

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    test("heartbeats keep socket open", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const idleTimeout = String(IDLE_TIMEOUT_MS / 1000);
      await withServer(t, { "--idle-timeout": idleTimeout }, async (context) => {
        const client = context.client(variant, "client", {
          heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        });
        const replies = [];
        const enough = new Promise((resolve) => {
          client.socket.onMessage((message) => {
            if (message.topic === "phoenix") {
              replies.push(message);
              if (replies.length === HEARTBEATS) {
                resolve();
              }
            }
          });
        });
        await client.connect();
        await withTimeout(enough, 10000, `${HEARTBEATS} heartbeat replies`);

        assert.deepEqual(client.closes, [], "the socket closed while sending heartbeats");
        const sent = context.frames
          .filter(({ direction }) => direction === "out")
          .map(({ data }) => JSON.parse(data));
        const received = context.frames
          .filter(({ direction }) => direction === "in")
          .map(({ data }) => JSON.parse(data));
        const refOf = (frame) => (Array.isArray(frame) ? frame[1] : frame.ref);
        const heartbeatRefs = sent.slice(0, HEARTBEATS).map(refOf);
        assert.deepEqual(
          received.slice(0, HEARTBEATS),
          heartbeatRefs.map((ref) => heartbeatReply(variant.serializer, ref))
        );
      });
    });

    test("idle socket closed with 1000", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const idleTimeout = String(IDLE_TIMEOUT_MS / 1000);
      await withServer(t, { "--idle-timeout": idleTimeout }, async (context) => {
        const client = context.client(variant, "client", { heartbeatIntervalMs: 60000 });
        const closed = new Promise((resolve) => client.socket.onClose((event) => resolve(event)));
        const connectedAt = Date.now();
        await client.connect();
        const event = await withTimeout(closed, 10000, "the server to close an idle socket");
        const elapsed = Date.now() - connectedAt;
        assert.equal(event.code, 1000);
        // Qt's coarse timers may fire up to 5 % early.
        assert.ok(elapsed >= IDLE_TIMEOUT_MS * 0.95, `closed after ${elapsed} ms`);
      });
    });
  });
}

// Only phoenix.js 1.8 has `authToken`: it offers the subprotocols `phoenix` and
// `base64url.bearer.phx.<token>`, and the ws transport fails the connection unless the server
// selects one of them.
for (const variant of VARIANTS.filter(({ version }) => version === "1.8")) {
  describe(variant.name, () => {
    test("authToken selects phoenix subprotocol", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      await withServer(t, {}, async (context) => {
        const client = context.client(variant, "client", { authToken: "interop-auth-token" });
        await client.connect();
        assert.equal(client.transport().protocol, "phoenix");

        const { channel, reply } = await client.join("onboarding", {});
        assert.deepEqual(reply, { status: "ok", response: {} });
        const generated = await client.push(channel, "GENERATE_NEW_SESSION_NAME", {});
        assert.equal(generated.status, "ok");
        assert.match(generated.response, /^[a-z]+-[a-z]+$/);
      });
    });
  });
}
