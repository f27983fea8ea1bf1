#pragma once

#include "eventloop.h"

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace OmwBench {

// Where the clients connect: the server's address and port, and the request target of the
// WebSocket upgrade.
struct Endpoint
{
    sockaddr_in server {};
    std::string hostHeader; // "127.0.0.1:PORT"
    std::string path = "/socket/websocket?vsn=2.0.0";
};

// A minimal RFC 6455 client over one non-blocking socket: the HTTP upgrade, masked text frames
// out, unmasked text frames in (fragmented messages are reassembled), and the control frames:
// a ping is answered with a pong, a close with a close. Nothing here allocates per frame once
// the buffers have grown to the largest frame seen.
class WsClient : public EventLoop::Handler
{
public:
    enum class State { Idle, Connecting, Handshaking, Open, Closed };

    explicit WsClient(EventLoop *loop) : m_loop(loop) { }
    ~WsClient() override;
    WsClient(const WsClient &) = delete;
    WsClient &operator=(const WsClient &) = delete;

    // Opens a socket bound to `source` (port chosen at connect time) and starts connecting.
    // Returns false, with failure() set, when the socket cannot be opened or the connect fails
    // at once; the client is then Closed.
    bool start(const Endpoint &endpoint, in_addr source);

    // Sends one masked text frame. Frames are dropped when the client is not Open.
    void sendText(std::string_view payload);
    // Closes the socket at once, without a close handshake.
    void abort();
    // Stops reading from the socket, as a follower that cannot keep up would: what the server
    // sends piles up in the kernel's buffers and then in the server's send queue.
    void pauseReading();

    State state() const { return m_state; }
    // Why the client closed or failed, e.g. "socket:EMFILE", "connect:EADDRNOTAVAIL",
    // "http:503", "close:1008", "eof", "reset"; empty while nothing failed.
    const std::string &failure() const { return m_failure; }
    // The close code the server sent, or 0.
    int closeCode() const { return m_closeCode; }

    void handleEvents(uint32_t events, int64_t readyNs) override;

    // The Sec-WebSocket-Key every client sends, and the accept value it expects back. One key
    // per process keeps the SHA-1 out of the per-connection path; the server cannot tell.
    static void initHandshakeKey();

protected:
    virtual void opened(int64_t readyNs) { (void)readyNs; }
    virtual void textReceived(const char *data, size_t size, int64_t readyNs) = 0;
    virtual void closed() { }

private:
    void fail(std::string reason);
    void finishConnect();
    void readAvailable(int64_t readyNs);
    bool parseHandshake(int64_t readyNs);
    void parseFrames(int64_t readyNs);
    void sendFrame(uint8_t opcode, const char *payload, size_t size);
    void flush();
    void updateInterest();

    EventLoop *m_loop;
    int m_fd = -1;
    State m_state = State::Idle;
    bool m_wantWrite = false;
    bool m_paused = false;
    std::string m_in;
    std::string m_out;
    std::string m_message; // a fragmented message being reassembled
    std::string m_failure;
    int m_closeCode = 0;
};

} // namespace OmwBench
