"use strict";

// Whole rides driven by the official phoenix.js client against the real omw-server, once for
// every pinned client version and serializer.

const assert = require("node:assert/strict");
const { describe, test } = require("node:test");

const { EVENT_TIMEOUT_MS, VARIANTS, withTimeout } = require("./lib/phoenix");
const { assertTimeWithin, withServer } = require("./lib/harness");

const TEST_TIMEOUT_MS = 30000;
const GRACE_MS = 300;
const MNEMONIC = /^[a-z]+-[a-z]+$/;
// At least 128 bits of base64url.
const RIDE_TOKEN = /^[A-Za-z0-9_-]{22,}$/;

// Returns the NEW_COORDS broadcast that `point` produces on `slug`, without `received_at`:
// unknown speed and heading (null or negative) become null, and accuracy and altitude are
// passed on when given.
function expectedBroadcast(point, slug) {
  const unknownAsNull = (value) => {
    const unknown = value === null || value === undefined || value < 0;
    return unknown ? null : value;
  };
  const broadcast = {
    heading: unknownAsNull(point.heading),
    latitude: point.latitude,
    longitude: point.longitude,
    slug,
    speed: unknownAsNull(point.speed),
    timestamp: point.timestamp,
  };
  for (const key of ["accuracy", "altitude"]) {
    if (key in point) {
      broadcast[key] = point[key];
    }
  }
  return broadcast;
}

// Publishes `point` through `push(event, payload)`, expects the ok reply, and checks the
// broadcast that each queue in `followerQueues` receives next. Returns the broadcast payload.
async function publish(push, followerQueues, slug, point) {
  const before = Date.now();
  assert.deepEqual(await push("NEW_COORDS", point), { status: "ok", response: {} });
  let broadcast = null;
  for (const queue of followerQueues) {
    const message = await queue.next();
    const after = Date.now();
    assert.equal(message.event, "NEW_COORDS", `${queue.topic} got ${JSON.stringify(message)}`);
    const payload = message.payload;
    assertTimeWithin(payload.received_at, before, after, "received_at");
    const expected = { ...expectedBroadcast(point, slug), received_at: payload.received_at };
    if (!("timestamp" in point)) {
      assertTimeWithin(payload.timestamp, before, after, "timestamp of a point without one");
      expected.timestamp = payload.timestamp;
    }
    assert.deepEqual(payload, expected);
    if (broadcast !== null) {
      assert.deepEqual(payload, broadcast, "followers received different broadcasts");
    }
    broadcast = payload;
  }
  return broadcast;
}

// Asserts that `reply` is an error with exactly the keys reason and message: the reason is
// `reason`, the message a sentence for people.
function assertErrorReply(reply, reason) {
  assert.equal(reply.status, "error", JSON.stringify(reply));
  assert.deepEqual(Object.keys(reply.response).sort(), ["message", "reason"]);
  assert.equal(reply.response.reason, reason);
  assert.equal(typeof reply.response.message, "string");
  assert.notEqual(reply.response.message, "");
}

// Pushes an invalid point and checks the error reply: the exact reason, and a message that
// names the field and the value.
async function expectRejected(push, point, reason, field, value) {
  const reply = await push("NEW_COORDS", point);
  assertErrorReply(reply, reason);
  const message = JSON.stringify(reply.response.message);
  assert.ok(reply.response.message.includes(field), `message ${message} does not name ${field}`);
  assert.ok(reply.response.message.includes(value), `message ${message} does not name ${value}`);
}

// Joins onboarding, generates a name and creates a ride; returns {name, slug, token}.
async function onboard(client) {
  await client.connect();
  const { channel, reply } = await client.join("onboarding", {});
  assert.deepEqual(reply, { status: "ok", response: {} });

  const generated = await client.push(channel, "GENERATE_NEW_SESSION_NAME", {});
  assert.equal(generated.status, "ok");
  assert.equal(typeof generated.response, "string", "the generated name is not a bare string");
  assert.match(generated.response, MNEMONIC);

  const created = await client.push(channel, "CREATE_SESSION", {});
  assert.equal(created.status, "ok");
  assert.deepEqual(Object.keys(created.response).sort(), ["slug", "token"]);
  const { slug, token } = created.response;
  assert.match(slug, MNEMONIC);
  assert.match(token, RIDE_TOKEN);
  assert.notEqual(slug, generated.response, "CREATE_SESSION returned a reserved name");
  return { name: generated.response, slug, token };
}

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    test("whole ride with token", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      await withServer(t, {}, async (context) => {
        const onboarding = context.client(variant, "onboarding");
        const { slug, token } = await onboard(onboarding);
        const topic = `following:${slug}`;

        const follower = context.client(variant, "follower");
        await follower.connect();
        const followed = await follower.join(topic, {});
        assert.deepEqual(followed.reply, {
          status: "ok",
          response: { slug, state: "waiting", last: null, trail: [] },
        });
        const followerQueue = follower.queue(topic);

        const intruder = context.client(variant, "intruder");
        await intruder.connect();
        const withoutToken = await intruder.join(`tracking:${slug}`, {});
        assertErrorReply(withoutToken.reply, "unauthorized");
        const wrongToken = await intruder.join(`tracking:${slug}`, { token: `${token}x` });
        assertErrorReply(wrongToken.reply, "unauthorized");

        const rider = context.rider();
        const riderJoin = await rider.join(variant, context.url, `tracking:${slug}`, { token });
        assert.deepEqual(riderJoin, { status: "ok", response: { slug, state: "waiting" } });
        const riderPush = (event, payload) => rider.push(event, payload);

        const start = Date.now() - 60000;
        const points = [
          { latitude: 48.137154, longitude: 11.576124, speed: 12.5, heading: 90, timestamp: start },
          {
            latitude: 48.13721,
            longitude: 11.57631,
            speed: 13.25,
            heading: 91.5,
            timestamp: start + 1000,
            accuracy: 4.5,
            altitude: 519.2,
          },
          // A browser without speed and heading.
          {
            latitude: 48.13733,
            longitude: 11.57652,
            speed: null,
            heading: null,
            timestamp: start + 2000,
          },
          // iOS reports unknown values as -1.
          {
            latitude: 48.13745,
            longitude: 11.57671,
            speed: -1,
            heading: -1,
            timestamp: start + 3000,
          },
        ];
        const broadcasts = [];
        for (const point of points) {
          broadcasts.push(await publish(riderPush, [followerQueue], slug, point));
        }

        const current = points[points.length - 1];
        await expectRejected(
          riderPush,
          { ...current, latitude: 91, timestamp: start + 4000 },
          "invalid_coordinates",
          "latitude",
          "91"
        );
        await expectRejected(
          riderPush,
          { ...current, speed: "12", timestamp: start + 4000 },
          "invalid_speed",
          "speed",
          "12"
        );
        await expectRejected(
          riderPush,
          { ...current, timestamp: start + 500 },
          "out_of_order",
          "timestamp",
          String(start + 500)
        );
        // An exact repeat is acknowledged and not broadcast again.
        assert.deepEqual(await riderPush("NEW_COORDS", current), { status: "ok", response: {} });

        // The original web app sends no timestamp; the server uses its receive time.
        broadcasts.push(
          await publish(riderPush, [followerQueue], slug, {
            latitude: 48.13752,
            longitude: 11.57688,
            speed: 14,
            heading: 92,
          })
        );

        const lateFollower = context.client(variant, "late follower");
        await lateFollower.connect();
        const lateFollowed = await lateFollower.join(topic, {});
        assert.deepEqual(lateFollowed.reply, {
          status: "ok",
          response: {
            slug,
            state: "live",
            last: broadcasts[broadcasts.length - 1],
            trail: broadcasts,
          },
        });
        const lateQueue = lateFollower.queue(topic);

        const killedAt = Date.now();
        await rider.kill();
        for (const queue of [followerQueue, lateQueue]) {
          const offline = await queue.next();
          const offlineJson = JSON.stringify(offline);
          assert.equal(offline.event, "RIDER_OFFLINE", `${queue.topic}: ${offlineJson}`);
          assert.deepEqual(Object.keys(offline.payload), ["since"]);
          assertTimeWithin(offline.payload.since, killedAt, Date.now(), "RIDER_OFFLINE since");
        }

        const returned = context.client(variant, "returned rider");
        await returned.connect();
        const rejoined = await returned.join(`tracking:${slug}`, { token });
        assert.deepEqual(rejoined.reply, { status: "ok", response: { slug, state: "live" } });
        for (const queue of [followerQueue, lateQueue]) {
          assert.deepEqual(await queue.next(), { event: "RIDER_ONLINE", payload: {} });
        }
        const returnedPush = (event, payload) => returned.push(rejoined.channel, event, payload);
        broadcasts.push(
          await publish(returnedPush, [followerQueue, lateQueue], slug, {
            latitude: 48.13761,
            longitude: 11.57702,
            speed: 14.5,
            heading: 93,
            timestamp: Date.now(),
          })
        );

        assert.deepEqual(await returned.leave(rejoined.channel), { status: "ok", response: {} });
        // A rider never receives broadcasts: it only gets phx_close after each of its leaves.
        const riderQueue = returned.queue(`tracking:${slug}`);
        assert.deepEqual(await riderQueue.next(), { event: "phx_close", payload: {} });
        for (const queue of [followerQueue, lateQueue]) {
          assert.deepEqual(await queue.next(), { event: "TERMINATED", payload: {} });
        }

        // An ended ride keeps its last position and trail for the followers who come later.
        const endedFollower = context.client(variant, "follower of the ended ride");
        await endedFollower.connect();
        const endedFollowed = await endedFollower.join(topic, {});
        assert.deepEqual(endedFollowed.reply, {
          status: "ok",
          response: {
            slug,
            state: "ended",
            last: broadcasts[broadcasts.length - 1],
            trail: broadcasts,
          },
        });

        const endedQueue = endedFollower.queue(topic);

        // The rider starts the ride again with its token, as a new ride without a fix, and the
        // followers, still joined, receive its positions on the same topic.
        const restarted = await returned.join(`tracking:${slug}`, { token });
        assert.deepEqual(restarted.reply, { status: "ok", response: { slug, state: "waiting" } });
        const restartedPush = (event, payload) => returned.push(restarted.channel, event, payload);
        await publish(restartedPush, [followerQueue, lateQueue, endedQueue], slug, {
          latitude: 48.13771,
          longitude: 11.57719,
          speed: 15,
          heading: 94,
          timestamp: Date.now(),
        });
        assert.deepEqual(await returned.leave(restarted.channel), { status: "ok", response: {} });
        assert.deepEqual(await riderQueue.next(), { event: "phx_close", payload: {} });
        for (const queue of [followerQueue, lateQueue, endedQueue]) {
          assert.deepEqual(await queue.next(), { event: "TERMINATED", payload: {} });
        }

        const names = (queue) => queue.events().map(({ event }) => event);
        assert.deepEqual(names(followerQueue), [
          "NEW_COORDS",
          "NEW_COORDS",
          "NEW_COORDS",
          "NEW_COORDS",
          "NEW_COORDS",
          "RIDER_OFFLINE",
          "RIDER_ONLINE",
          "NEW_COORDS",
          "TERMINATED",
          "NEW_COORDS",
          "TERMINATED",
        ]);
        assert.deepEqual(names(lateQueue), [
          "RIDER_OFFLINE",
          "RIDER_ONLINE",
          "NEW_COORDS",
          "TERMINATED",
          "NEW_COORDS",
          "TERMINATED",
        ]);
        assert.deepEqual(names(endedQueue), ["NEW_COORDS", "TERMINATED"]);
        assert.deepEqual(riderQueue.events(), [
          { event: "phx_close", payload: {} },
          { event: "phx_close", payload: {} },
        ]);
        assert.deepEqual(onboarding.queue("onboarding").events(), []);
      });
    });

    test("grace period ends ride", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      await withServer(t, { "--rider-grace": String(GRACE_MS / 1000) }, async (context) => {
        const onboarding = context.client(variant, "onboarding");
        const { slug, token } = await onboard(onboarding);
        const topic = `following:${slug}`;

        const follower = context.client(variant, "follower");
        await follower.connect();
        await follower.join(topic, {});
        const queue = follower.queue(topic);

        const rider = context.rider();
        await rider.join(variant, context.url, `tracking:${slug}`, { token });
        const point = {
          latitude: 51.5007,
          longitude: -0.1246,
          speed: 8,
          heading: 270,
          timestamp: Date.now(),
        };
        await publish((event, payload) => rider.push(event, payload), [queue], slug, point);

        const killedAt = Date.now();
        await rider.kill();
        const offline = await queue.next();
        assert.equal(offline.event, "RIDER_OFFLINE", JSON.stringify(offline));
        assertTimeWithin(offline.payload.since, killedAt, Date.now(), "RIDER_OFFLINE since");

        assert.deepEqual(await queue.next(), { event: "TERMINATED", payload: {} });
        const elapsed = Date.now() - offline.payload.since;
        // Qt's coarse timers may fire up to 5 % early.
        assert.ok(elapsed >= GRACE_MS * 0.95, `TERMINATED came ${elapsed} ms after the drop`);
        assert.deepEqual(
          queue.events().map(({ event }) => event),
          ["NEW_COORDS", "RIDER_OFFLINE", "TERMINATED"]
        );
      });
    });

    test("phoenix.js rejoins after drop", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      await withServer(t, {}, async (context) => {
        const onboarding = context.client(variant, "onboarding");
        const { slug, token } = await onboard(onboarding);
        const topic = `following:${slug}`;

        const follower = context.client(variant, "follower");
        await follower.connect();
        await follower.join(topic, {});
        const queue = follower.queue(topic);

        // phoenix.js reconnects and rejoins its channels with their join params by itself.
        const rider = context.client(variant, "rider", {
          reconnectAfterMs: () => 50,
          rejoinAfterMs: () => 50,
        });
        const joinReplies = [];
        const rejoined = new Promise((resolve) => {
          rider.socket.onMessage(({ topic: replyTopic, event, payload }) => {
            const isJoinReply = payload && payload.response && "state" in payload.response;
            if (replyTopic === `tracking:${slug}` && event === "phx_reply" && isJoinReply) {
              joinReplies.push(payload);
              if (joinReplies.length === 2) {
                resolve();
              }
            }
          });
        });
        await rider.connect();
        const tracking = await rider.join(`tracking:${slug}`, { token });
        assert.deepEqual(tracking.reply, { status: "ok", response: { slug, state: "waiting" } });
        const push = (event, payload) => rider.push(tracking.channel, event, payload);
        const first = { latitude: 45.4642, longitude: 9.19, speed: 11, heading: 45 };
        await publish(push, [queue], slug, { ...first, timestamp: Date.now() });

        // ws's terminate() destroys the TCP socket without sending a close frame.
        const droppedAt = Date.now();
        rider.transport().terminate();
        const offline = await queue.next();
        assert.equal(offline.event, "RIDER_OFFLINE", JSON.stringify(offline));
        assertTimeWithin(offline.payload.since, droppedAt, Date.now(), "RIDER_OFFLINE since");
        assert.deepEqual(await queue.next(), { event: "RIDER_ONLINE", payload: {} });
        await withTimeout(rejoined, EVENT_TIMEOUT_MS, "the reply to phoenix.js's own rejoin");
        assert.deepEqual(joinReplies, [
          { status: "ok", response: { slug, state: "waiting" } },
          { status: "ok", response: { slug, state: "live" } },
        ]);

        const second = { latitude: 45.4645, longitude: 9.1904, speed: 12, heading: 46 };
        await publish(push, [queue], slug, { ...second, timestamp: Date.now() });
        assert.deepEqual(
          queue.events().map(({ event }) => event),
          ["NEW_COORDS", "RIDER_OFFLINE", "RIDER_ONLINE", "NEW_COORDS"]
        );
      });
    });

    test("original web app ride", { timeout: TEST_TIMEOUT_MS }, async (t) => {
      await withServer(t, {}, async (context) => {
        // The original web app generates a name and joins tracking with it, without a token.
        const rider = context.client(variant, "rider");
        await rider.connect();
        const onboarding = await rider.join("onboarding", {});
        assert.deepEqual(onboarding.reply, { status: "ok", response: {} });
        const generated = await rider.push(onboarding.channel, "GENERATE_NEW_SESSION_NAME", {});
        assert.equal(generated.status, "ok");
        assert.match(generated.response, MNEMONIC);
        const slug = generated.response;
        const topic = `following:${slug}`;

        const tracking = await rider.join(`tracking:${slug}`, {});
        assert.deepEqual(tracking.reply, { status: "ok", response: { slug, state: "waiting" } });

        const follower = context.client(variant, "follower");
        await follower.connect();
        const followed = await follower.join(topic, {});
        assert.deepEqual(followed.reply, {
          status: "ok",
          response: { slug, state: "waiting", last: null, trail: [] },
        });
        const queue = follower.queue(topic);

        // The first rider has claimed the ride; another socket cannot take it while it is here.
        const second = context.client(variant, "second rider");
        await second.connect();
        const inUse = await second.join(`tracking:${slug}`, {});
        assertErrorReply(inUse.reply, "session_in_use");

        const push = (event, payload) => rider.push(tracking.channel, event, payload);
        const points = [
          { latitude: 40.4168, longitude: -3.7038, speed: null, heading: null },
          { latitude: 40.4171, longitude: -3.7041, speed: 9.5, heading: 315 },
        ];
        for (const point of points) {
          await publish(push, [queue], slug, point);
        }

        assert.deepEqual(await rider.leave(tracking.channel), { status: "ok", response: {} });
        assert.deepEqual(await queue.next(), { event: "TERMINATED", payload: {} });
        assert.deepEqual(
          queue.events().map(({ event }) => event),
          ["NEW_COORDS", "NEW_COORDS", "TERMINATED"]
        );
      });
    });
  });
}
