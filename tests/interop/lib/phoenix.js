"use strict";

// The official phoenix.js client, in each pinned version and with each serializer it can use,
// wrapped in promises so tests await replies and events instead of sleeping.

const fs = require("node:fs");
const path = require("node:path");
const WebSocket = require("ws");

const EVENT_TIMEOUT_MS = 5000;

// The phoenix package does not export its package.json, so its version is read from the file.
function installedVersion(alias) {
  const manifest = path.join(__dirname, "..", "node_modules", alias, "package.json");
  return JSON.parse(fs.readFileSync(manifest, "utf8")).version;
}

const PHOENIX = {
  "1.6": { module: require("phoenix16"), version: installedVersion("phoenix16") },
  "1.8": { module: require("phoenix18"), version: installedVersion("phoenix18") },
};

// phoenix.js encodes V2 (JSON arrays) by default. V1 (JSON objects) is selected with
// `vsn: "1.0.0"` and a plain JSON encoder and decoder, which send the message object that
// phoenix.js builds, `{join_ref, ref, topic, event, payload}`.
const SERIALIZERS = {
  V2: {},
  V1: {
    vsn: "1.0.0",
    encode: (message, callback) => callback(JSON.stringify(message)),
    decode: (text, callback) => callback(JSON.parse(text)),
  },
};

// Every pair of pinned client version and serializer, e.g. {version: "1.8", serializer: "V1"}.
const VARIANTS = Object.keys(PHOENIX).flatMap((version) =>
  Object.keys(SERIALIZERS).map((serializer) => ({
    version,
    serializer,
    name: `phoenix ${PHOENIX[version].version} ${serializer}`,
  }))
);

// Returns a WebSocket class for phoenix.js's `transport` option that appends every frame sent
// and received to `frames`, so a failing test can show the exact wire traffic. `wsOptions` go
// to the ws constructor, e.g. `{ca}` to trust a test certificate.
function recordingTransport(frames, label, serializer, wsOptions) {
  return class RecordingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, wsOptions);
      frames.push({ at: Date.now(), label, direction: "open", data: String(url) });
      this.addEventListener("message", (event) => {
        frames.push({ at: Date.now(), label, serializer, direction: "in", data: event.data });
      });
      this.addEventListener("close", (event) => {
        frames.push({ at: Date.now(), label, direction: "close", data: `${event.code}` });
      });
    }

    send(data, ...rest) {
      frames.push({ at: Date.now(), label, direction: "out", data });
      super.send(data, ...rest);
    }
  };
}

// Rejects with `description` when `promise` has not settled within `timeoutMs`.
function withTimeout(promise, timeoutMs, description) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
      timeoutMs
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The messages of one topic other than replies, in arrival order, with a way to await the next.
class EventQueue {
  constructor(topic) {
    this.topic = topic;
    this.received = [];
    this.nextIndex = 0;
    this.waiters = [];
  }

  add(message) {
    this.received.push(message);
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  // Resolves with the next message not yet taken, as `{event, payload}`.
  async next(timeoutMs = EVENT_TIMEOUT_MS) {
    while (this.nextIndex >= this.received.length) {
      const arrived = new Promise((resolve) => this.waiters.push(resolve));
      await withTimeout(
        arrived,
        timeoutMs,
        `an event on ${this.topic}; received so far: ${JSON.stringify(this.events())}`
      );
    }
    const { event, payload } = this.received[this.nextIndex++];
    return { event, payload };
  }

  // Every message received so far, as `{event, payload}`.
  events() {
    return this.received.map(({ event, payload }) => ({ event, payload }));
  }
}

// One phoenix.js Socket of the given variant, with its frames recorded.
class Client {
  constructor(variant, url, options = {}) {
    const { label = "client", frames = [], socketOptions = {}, wsOptions = {} } = options;
    this.variant = variant;
    this.label = label;
    this.frames = frames;
    this.queues = new Map();
    this.channels = [];
    this.closes = [];
    const { Socket } = PHOENIX[variant.version].module;
    this.socket = new Socket(url, {
      transport: recordingTransport(frames, label, variant.serializer, wsOptions),
      // Tests await every join and connection themselves, so phoenix.js must not retry a
      // rejected join or a closed connection behind their back.
      rejoinAfterMs: () => 60000,
      reconnectAfterMs: () => 60000,
      ...SERIALIZERS[variant.serializer],
      ...socketOptions,
    });
    this.socket.onMessage((message) => {
      if (message.event !== "phx_reply") {
        this.queue(message.topic).add(message);
      }
    });
    this.socket.onClose((event) => this.closes.push(event.code));
  }

  // Returns the queue of non-reply messages received on `topic`.
  queue(topic) {
    if (!this.queues.has(topic)) {
      this.queues.set(topic, new EventQueue(topic));
    }
    return this.queues.get(topic);
  }

  // Opens the WebSocket; resolves once it is open, rejects when it fails.
  connect() {
    const opened = new Promise((resolve, reject) => {
      const openRef = this.socket.onOpen(() => {
        this.socket.off([openRef, errorRef]);
        resolve();
      });
      const errorRef = this.socket.onError((error) => {
        this.socket.off([openRef, errorRef]);
        reject(new Error(`${this.label}: WebSocket failed: ${error && error.message}`));
      });
    });
    this.socket.connect();
    return withTimeout(opened, EVENT_TIMEOUT_MS, `${this.label} to connect`);
  }

  // Joins `topic` and resolves with `{channel, reply}`, the reply being `{status, response}`.
  async join(topic, params = {}) {
    const channel = this.socket.channel(topic, params);
    this.channels.push(channel);
    const reply = await this.awaitReply(channel.join(), `the reply to joining ${topic}`);
    return { channel, reply };
  }

  // Pushes `event` on `channel` and resolves with the reply `{status, response}`.
  push(channel, event, payload) {
    return this.awaitReply(
      channel.push(event, payload),
      `the reply to ${event} ${JSON.stringify(payload)} on ${channel.topic}`
    );
  }

  // Leaves `channel` and resolves with the reply to phx_leave.
  leave(channel) {
    return this.awaitReply(channel.leave(), `the reply to leaving ${channel.topic}`);
  }

  awaitReply(push, description) {
    const replied = new Promise((resolve, reject) => {
      push
        .receive("ok", (response) => resolve({ status: "ok", response }))
        .receive("error", (response) => resolve({ status: "error", response }))
        .receive("timeout", () => reject(new Error(`${this.label}: phoenix.js timed out`)));
    });
    return withTimeout(replied, EVENT_TIMEOUT_MS, `${this.label}: ${description}`);
  }

  // Returns the transport of the current connection (a ws WebSocket).
  transport() {
    return this.socket.conn;
  }

  // Closes the WebSocket with a close frame; resolves once it is closed.
  async disconnect() {
    const closed = new Promise((resolve) => this.socket.disconnect(resolve));
    await withTimeout(closed, EVENT_TIMEOUT_MS, `${this.label} to disconnect`);
    // A rejected join leaves a pending rejoin timer that would keep Node running.
    // NOTE: rejoinTimer is internal to phoenix.js; 1.6.16 and 1.8.16 both have it.
    this.channels.forEach((channel) => channel.rejoinTimer.reset());
  }
}

// Formats recorded frames for a failure message, one line each, times relative to the first.
function formatFrames(frames) {
  if (frames.length === 0) {
    return "(no frames)";
  }
  // Frames of other processes arrive out of order, so they are sorted by time.
  const sorted = [...frames].sort((a, b) => a.at - b.at);
  const start = sorted[0].at;
  return sorted
    .map(({ at, label, direction, data }) => {
      const arrow = { in: "<-", out: "->" }[direction] || direction;
      return `+${String(at - start).padStart(5)} ms ${label} ${arrow} ${data}`;
    })
    .join("\n");
}

module.exports = {
  EVENT_TIMEOUT_MS,
  PHOENIX,
  SERIALIZERS,
  VARIANTS,
  Client,
  EventQueue,
  formatFrames,
  withTimeout,
};
