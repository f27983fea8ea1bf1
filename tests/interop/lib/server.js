"use strict";

// Starts and stops the real omw-server binary for one test. The binary's path comes from the
// OMW_SERVER environment variable, which ctest sets.

const { spawn } = require("node:child_process");

const LISTENING_PATTERN = /listening on (wss?):\/\/(\[[^\]]+\]|[^\s/:]+):(\d+)\/socket/;
const START_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;

class OmwServer {
  constructor(child) {
    this.child = child;
    this.log = "";
    this.url = null;
    this.exit = null;
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  // Returns true while the process has not exited, so a test can tell a crash from its own stop.
  isRunning() {
    return this.exit === null;
  }

  // Stops the server with SIGTERM, and SIGKILL when it does not exit within STOP_TIMEOUT_MS.
  async stop() {
    if (!this.isRunning()) {
      return this.exit;
    }
    this.child.kill("SIGTERM");
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
    });
    const exit = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (exit === null) {
      this.child.kill("SIGKILL");
      return this.exited;
    }
    return exit;
  }
}

// Starts omw-server on a free loopback port with the extra command-line `args`, and resolves
// once its stderr reports the listening address. The resolved server's `url` is the endpoint
// that phoenix.js is given (`ws://ADDRESS:PORT/socket`, or `wss://` with TLS options).
function startServer(args = []) {
  const binary = process.env.OMW_SERVER;
  if (!binary) {
    return Promise.reject(
      new Error("OMW_SERVER is not set: set it to the path of the omw-server binary")
    );
  }
  const child = spawn(binary, ["--bind", "127.0.0.1", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const server = new OmwServer(child);
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (text) => {
    server.log += text;
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `omw-server did not report "listening on" within ${START_TIMEOUT_MS} ms; ` +
            `its output:\n${server.log}`
        )
      );
    }, START_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start omw-server at ${binary}: ${error.message}`));
    });
    child.stderr.on("data", (text) => {
      server.log += text;
      const match = server.url === null && LISTENING_PATTERN.exec(server.log);
      if (match) {
        clearTimeout(timer);
        server.url = `${match[1]}://${match[2]}:${match[3]}/socket`;
        resolve(server);
      }
    });
    server.exited.then(({ code, signal }) => {
      if (server.url === null) {
        clearTimeout(timer);
        reject(
          new Error(
            `omw-server exited (code ${code}, signal ${signal}) before listening; ` +
              `its output:\n${server.log}`
          )
        );
      }
    });
  });
}

module.exports = { startServer };
