"use strict";

// A rider in its own Node process, so a test can kill it with SIGKILL: the kernel then closes
// the TCP connection without a WebSocket close frame, as when a phone loses its network.
// It is driven over the IPC channel of child_process.fork:
//   parent -> {type: "join", variant, url, topic, params}   child -> {type: "joined", reply}
//   parent -> {type: "push", id, event, payload}            child -> {type: "replied", id, reply}
// Every frame is sent as {type: "frame", frame}. Any failure is sent as {type: "failed", message}
// and ends the process.

const { Client } = require("./phoenix");

let client = null;
let channel = null;
// The parent records this process's frames with its own, for failure diagnostics.
const frames = { push: (frame) => process.send({ type: "frame", frame }) };

async function handle(message) {
  switch (message.type) {
    case "join": {
      client = new Client(message.variant, message.url, { label: "rider process", frames });
      await client.connect();
      const joined = await client.join(message.topic, message.params);
      channel = joined.channel;
      process.send({ type: "joined", reply: joined.reply });
      break;
    }
    case "push": {
      const reply = await client.push(channel, message.event, message.payload);
      process.send({ type: "replied", id: message.id, reply });
      break;
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(message.type)}`);
  }
}

process.on("message", (message) => {
  handle(message).catch((error) => {
    process.send({ type: "failed", message: error.message }, () => process.exit(1));
  });
});

// Exits with the parent, so a failed test leaves no rider behind.
process.on("disconnect", () => process.exit(0));
