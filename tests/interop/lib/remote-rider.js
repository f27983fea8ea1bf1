"use strict";

// The parent side of rider-process.js: a phoenix.js rider in a child process that a test
// joins, pushes through and finally kills.

const { fork } = require("node:child_process");
const path = require("node:path");

const { EVENT_TIMEOUT_MS, withTimeout } = require("./phoenix");

class RemoteRider {
  // Starts the process; the frames it sends and receives are appended to `frames`.
  constructor(frames) {
    this.frames = frames;
    this.child = fork(path.join(__dirname, "rider-process.js"), [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.nextId = 0;
    this.pending = new Map();
    this.joined = null;
    this.failure = null;
    this.exited = new Promise((resolve) => this.child.on("exit", resolve));
    this.child.on("message", (message) => this.onMessage(message));
    this.exited.then(() => this.rejectAll(this.failure || "the rider process exited"));
  }

  onMessage(message) {
    if (message.type === "frame") {
      this.frames.push(message.frame);
    } else if (message.type === "joined") {
      this.joined.resolve(message.reply);
    } else if (message.type === "replied") {
      this.pending.get(message.id).resolve(message.reply);
      this.pending.delete(message.id);
    } else if (message.type === "failed") {
      this.failure = `the rider process failed: ${message.message}`;
      this.rejectAll(this.failure);
    }
  }

  rejectAll(reason) {
    const waiters = [...this.pending.values()];
    if (this.joined) {
      waiters.push(this.joined);
    }
    waiters.forEach(({ reject }) => reject(new Error(reason)));
    this.pending.clear();
  }

  // Connects the rider process and joins `topic`; resolves with the reply `{status, response}`.
  join(variant, url, topic, params) {
    const joined = new Promise((resolve, reject) => {
      this.joined = { resolve, reject };
    });
    this.child.send({ type: "join", variant, url, topic, params });
    return withTimeout(joined, EVENT_TIMEOUT_MS, `the rider process to join ${topic}`);
  }

  // Pushes `event` on the joined channel; resolves with the reply `{status, response}`.
  push(event, payload) {
    const id = this.nextId++;
    const replied = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.child.send({ type: "push", id, event, payload });
    return withTimeout(replied, EVENT_TIMEOUT_MS, `the rider process's reply to ${event}`);
  }

  // Kills the process with SIGKILL, so its WebSocket ends without a close frame, and resolves
  // once it has exited.
  kill() {
    this.child.kill("SIGKILL");
    return withTimeout(this.exited, EVENT_TIMEOUT_MS, "the rider process to exit");
  }
}

module.exports = { RemoteRider };
