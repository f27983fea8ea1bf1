#!/usr/bin/env python3
"""Soak test of omw-server: rides and followers with churn for a bounded time, RSS over time.

Starts omw-server on a free loopback port, keeps --rides riders publishing one point per
second and --followers followers (spread evenly over the rides) joined, and replaces riders and
followers continually: every follower leaves after a random lifetime (half with phx_leave and a
close frame, half by dropping the TCP connection) and a new one joins in its place, and every
rider drops off now and then and comes back within the grace period. Every --sample seconds it
prints the server's resident memory, open file descriptors, live QObjects and connections, and
at the end it compares the last samples with the first ones taken after the warm-up.

Only the Python standard library is used: the WebSocket client below is a minimal RFC 6455
client (masked text frames out, ping answered, close answered) sufficient for Phoenix V2.
It is not run by CI; a run takes --duration seconds plus about half a minute.
"""

import argparse
import asyncio
import csv
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time


class WebSocket:
    """One client connection speaking Phoenix V2 JSON frames."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        return cls(reader, writer)

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return header + mask + masked

    def send(self, join_ref, ref, topic, event, payload):
        text = json.dumps([join_ref, ref, topic, event, payload], separators=(",", ":"))
        self.writer.write(self._frame(0x1, text.encode()))

    async def receive(self):
        """Returns the next text frame as a decoded list, or None once the connection is closed."""
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)
            opcode = first & 0x0F
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x9:
                self.writer.write(self._frame(0xA, payload))
            elif opcode == 0x8:
                self.writer.write(self._frame(0x8, payload[:2]))
                return None

    def close(self):
        self.writer.write(self._frame(0x8, struct.pack("!H", 1000)))
        self.writer.close()

    def abort(self):
        self.writer.transport.abort()


class Load:
    def __init__(self, port, options):
        self.port = port
        self.options = options
        self.running = True
        self.frames = 0
        self.positions_sent = 0
        self.follower_cycles = 0
        self.rider_drops = 0
        self.errors = 0

    async def drain(self, socket):
        try:
            while await socket.receive() is not None:
                self.frames += 1
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass

    async def rider(self, index):
        topic = f"tracking:soak-{index}"
        point = 0
        while self.running:
            try:
                socket = await WebSocket.connect(self.port)
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                self.errors += 1
                await asyncio.sleep(1)
                continue
            reader = asyncio.ensure_future(self.drain(socket))
            socket.send("1", "1", topic, "phx_join", {})
            # Each connection publishes for a random while, then the rider drops off without a
            # close frame and returns a second later, well within the server's grace period.
            until = time.monotonic() + random.uniform(60, 240)
            while self.running and time.monotonic() < until and not reader.done():
                point += 1
                socket.send("1", str(point + 1), topic, "NEW_COORDS", {
                    "latitude": 45.0 + (index % 90) * 0.01 + point * 1e-5,
                    "longitude": 13.0 + (index // 90) * 0.01,
                    "speed": 12.5, "heading": float(point % 360)})
                self.positions_sent += 1
                await asyncio.sleep(1)
            socket.abort()
            reader.cancel()
            if self.running:
                self.rider_drops += 1
                await asyncio.sleep(1)

    async def follower(self, index):
        topic = f"following:soak-{index % self.options.rides}"
        heartbeat = 0
        while self.running:
            try:
                socket = await WebSocket.connect(self.port)
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                self.errors += 1
                await asyncio.sleep(1)
                continue
            reader = asyncio.ensure_future(self.drain(socket))
            socket.send("1", "1", topic, "phx_join", {})
            until = time.monotonic() + random.uniform(20, 120)
            while self.running and time.monotonic() < until and not reader.done():
                await asyncio.sleep(min(30, max(0.1, until - time.monotonic())))
                heartbeat += 1
                socket.send(None, f"h{heartbeat}", "phoenix", "heartbeat", {})
            if random.random() < 0.5:
                socket.send("1", "2", topic, "phx_leave", {})
                socket.close()
            else:
                socket.abort()
            reader.cancel()
            self.follower_cycles += 1


def read_status(pid):
    rss = fds = -1
    try:
        with open(f"/proc/{pid}/status") as status:
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read())
            rss = int(match.group(1)) if match else -1
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return rss, fds


async def scrape(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    response = await reader.read()
    writer.close()
    samples = {}
    for line in response.split(b"\r\n\r\n", 1)[-1].decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


async def run(options, server, port):
    load = Load(port, options)
    tasks = [asyncio.ensure_future(load.rider(i)) for i in range(options.rides)]
    # Followers join over the first ten seconds, not all in the same instant.
    for i in range(options.followers):
        tasks.append(asyncio.ensure_future(load.follower(i)))
        if i % 200 == 199:
            await asyncio.sleep(1)

    rows = []
    started = time.monotonic()
    print(f"{'time s':>7} {'RSS kB':>9} {'fds':>6} {'QObjects':>9} {'conns':>6} {'rides':>6} "
          f"{'frames recv':>12} {'follower cycles':>16} {'rider drops':>12}", flush=True)
    while True:
        elapsed = time.monotonic() - started
        rss, fds = read_status(server.pid)
        metrics = await scrape(port)
        row = {
            "seconds": round(elapsed), "rss_kb": rss, "open_fds": fds,
            "qobjects": int(metrics.get("omw_qobjects", -1)),
            "connections": int(metrics.get("omw_connections", -1)),
            "live_rides": int(metrics.get('omw_rides{state="live"}', -1)),
            "frames_received": load.frames, "follower_cycles": load.follower_cycles,
            "rider_drops": load.rider_drops, "positions_sent": load.positions_sent,
            "client_errors": load.errors,
        }
        rows.append(row)
        print(f"{row['seconds']:>7} {rss:>9} {fds:>6} {row['qobjects']:>9} "
              f"{row['connections']:>6} {row['live_rides']:>6} {load.frames:>12} "
              f"{load.follower_cycles:>16} {load.rider_drops:>12}", flush=True)
        if elapsed >= options.duration:
            break
        await asyncio.sleep(options.sample)

    load.running = False
    await asyncio.sleep(2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return rows, load


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="omw-server binary (a release build)")
    parser.add_argument("--rides", type=int, default=200)
    parser.add_argument("--followers", type=int, default=2000, help="followers in all")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--warm-up", type=float, default=120,
                        help="seconds before the first sample that counts as the baseline")
    parser.add_argument("--sample", type=float, default=10, help="seconds between samples")
    parser.add_argument("--output", help="CSV file for the samples")
    # Each ride keeps its last --trail-length points for the follower snapshot, so memory grows
    # until every trail is full: at one point per second the server's default of 500 takes
    # 500 s, most of a 10-minute run. 100 fills within the warm-up.
    parser.add_argument("--trail-length", type=int, default=100,
                        help="the server's --trail-length, in points per ride")
    parser.add_argument("--server-log", default="/tmp/omw-soak-server.log")
    options = parser.parse_args()

    log = open(options.server_log, "wb")
    server = subprocess.Popen(
        [options.server, "--port", "0", "--follow-join-rate", "100000",
         "--follow-join-burst", "100000", "--rider-grace", "5", "--reservation-timeout", "10",
         "--trail-length", str(options.trail_length)],
        stderr=log, env=dict(os.environ, QT_LOGGING_RULES="omw.*.info=false;omw.server.info=true"))
    port = None
    deadline = time.monotonic() + 20
    while port is None and time.monotonic() < deadline:
        time.sleep(0.1)
        with open(options.server_log, "rb") as text:
            match = re.search(rb"listening on ws://[^\s]*:(\d+)/socket", text.read())
            port = int(match.group(1)) if match else None
    if port is None:
        server.kill()
        sys.exit(f"omw-server did not listen within 20 s; see {options.server_log}")

    try:
        rows, load = asyncio.run(run(options, server, port))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    if options.output:
        with open(options.output, "w", newline="") as output:
            writer = csv.DictWriter(output, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    baseline = [row for row in rows if row["seconds"] >= options.warm_up]
    first, last = baseline[0], rows[-1]
    peak = max(row["rss_kb"] for row in baseline)
    growth = 100.0 * (last["rss_kb"] - first["rss_kb"]) / first["rss_kb"]
    print(f"\nserver exit code {server.returncode}; {load.positions_sent} positions sent, "
          f"{load.frames} frames received, {load.follower_cycles} follower connections and "
          f"{load.rider_drops} rider drops, {load.errors} failed connects")
    print(f"RSS {first['rss_kb']} kB at {first['seconds']} s, {last['rss_kb']} kB at "
          f"{last['seconds']} s ({growth:+.1f} %), peak {peak} kB after the warm-up")


if __name__ == "__main__":
    main()
