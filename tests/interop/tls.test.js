"use strict";

// A ride over wss://: phoenix.js, verifying a self-signed test certificate, against omw-server
// started with --tls-cert and --tls-key.

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, before, describe, test } = require("node:test");

const { VARIANTS } = require("./lib/phoenix");
const { assertTimeWithin, withServer } = require("./lib/harness");

const TEST_TIMEOUT_MS = 30000;

// Returns why the test certificate cannot be made, or null when openssl is available.
function opensslMissing() {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return null;
  } catch (error) {
    return `openssl is not installed (${error.message}), so no test certificate can be made; ` +
      "install the openssl package to run this test";
  }
}

const skip = opensslMissing() || false;
let certificateDir = null;
let certificate = null;
let key = null;

before(() => {
  if (skip) {
    return;
  }
  certificateDir = fs.mkdtempSync(path.join(os.tmpdir(), "omw-interop-tls-"));
  certificate = path.join(certificateDir, "cert.pem");
  key = path.join(certificateDir, "key.pem");
  // A one-day P-256 certificate for the loopback address the server listens on.
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ], { stdio: "ignore" });
});

after(() => {
  if (certificateDir !== null) {
    fs.rmSync(certificateDir, { recursive: true, force: true });
  }
});

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    test("ride over wss", { timeout: TEST_TIMEOUT_MS, skip }, async (t) => {
      const options = { "--tls-cert": certificate, "--tls-key": key };
      await withServer(t, options, async (context) => {
        assert.match(context.url, /^wss:\/\/127\.0\.0\.1:\d+\/socket$/);
        // A client that does not trust the test certificate rejects the handshake, and the
        // others trust only that certificate, so every handshake below is fully verified.
        const untrusting = context.client(variant, "untrusting client");
        await assert.rejects(untrusting.connect(), /self-signed certificate/);
        const wsOptions = { ca: fs.readFileSync(certificate) };

        const rider = context.client(variant, "rider", {}, wsOptions);
        await rider.connect();
        const onboarding = await rider.join("onboarding", {});
        assert.deepEqual(onboarding.reply, { status: "ok", response: {} });
        const created = await rider.push(onboarding.channel, "CREATE_SESSION", {});
        assert.equal(created.status, "ok");
        const { slug, token } = created.response;

        const follower = context.client(variant, "follower", {}, wsOptions);
        await follower.connect();
        const topic = `following:${slug}`;
        const followed = await follower.join(topic, {});
        assert.deepEqual(followed.reply, {
          status: "ok",
          response: { slug, state: "waiting", last: null, trail: [] },
        });
        const queue = follower.queue(topic);

        const tracking = await rider.join(`tracking:${slug}`, { token });
        assert.deepEqual(tracking.reply, { status: "ok", response: { slug, state: "waiting" } });
        const point = { latitude: 59.3293, longitude: 18.0686, speed: 7.5, heading: 180 };
        const timestamp = Date.now();
        const pushed = await rider.push(tracking.channel, "NEW_COORDS", { ...point, timestamp });
        assert.deepEqual(pushed, { status: "ok", response: {} });
        const broadcast = await queue.next();
        const receivedAt = broadcast.payload.received_at;
        assertTimeWithin(receivedAt, timestamp, Date.now(), "received_at");
        assert.deepEqual(broadcast, {
          event: "NEW_COORDS",
          payload: { ...point, slug, timestamp, received_at: receivedAt },
        });

        assert.deepEqual(await rider.leave(tracking.channel), { status: "ok", response: {} });
        assert.deepEqual(await queue.next(), { event: "TERMINATED", payload: {} });
      });
    });
  });
}
