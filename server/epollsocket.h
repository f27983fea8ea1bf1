#pragma once

#include "epolldispatcher.h"
#include "httprequest.h"
#include "websockettransport.h"

#include <QByteArray>
#include <QHostAddress>

namespace Omw {

// A plain TCP client of the server on its raw, non-blocking file descriptor, driven by the
// shared EpollDispatcher. It reads the HTTP request head, then either sends one HTTP response and
// closes, or accepts the WebSocket upgrade and speaks RFC 6455 as the server side: unmasked
// frames out, masked frames in, fragmentation, ping and pong, the closing handshake, the
// message size limit (1009) and UTF-8 validation of text (1007).
//
// It keeps no buffer while idle: bytes are read into a stack buffer, and a send that the kernel
// accepts whole costs one system call and no copy. Only an unfinished frame or a backlog of
// unsent bytes is kept on the heap.
class EpollSocket final : public WebSocketTransport, public EpollClient
{
public:
    // Told about the socket until it is upgraded to a WebSocket.
    class Listener
    {
    public:
        virtual void requestHeadReceived(EpollSocket *socket, const HttpRequestHead &head) = 0;
        virtual void requestHeadInvalid(EpollSocket *socket, HttpRequestHead::Status status) = 0;
        virtual void closedBeforeUpgrade(EpollSocket *socket) = 0;

    protected:
        ~Listener() = default;
    };

    EpollSocket(int fd, EpollDispatcher *dispatcher, Listener *listener);
    ~EpollSocket();

    bool isRegistered() const { return m_registered; }
    QHostAddress peerAddress() const { return m_peerAddress; }
    quint16 peerPort() const { return m_peerPort; }
    void setMaxMessageSize(qint64 bytes) { m_maxMessageSize = bytes; }

    // Sends `response` and closes once it is written.
    void respondAndClose(const QByteArray &response);
    // Sends the 101 response; frames are read once startWebSocket() is called.
    void acceptUpgrade(const QByteArray &response);
    // Starts reading frames, including any that arrived with the request head.
    void startWebSocket();

    void sendText(const QByteArray &utf8) override;
    void sendFrame(const OutgoingFrame &frame, Phoenix::Serializer serializer) override;
    qint64 bytesToWrite() const override { return m_pending.size() - m_pendingOffset; }
    void close(QWebSocketProtocol::CloseCode code, const QString &reason) override;
    void abort() override;
    int closeCode() const override { return m_closeCode; }
    QString closeReason() const override { return m_closeReason; }

    void handleEvents(std::uint32_t events) override;

private:
    enum class State {
        ReadingHead, // HTTP request head not complete yet
        Upgraded, // 101 sent, frames not read yet
        Open,
        Closing, // our close frame is sent; waiting for the peer's
        Finishing, // the socket closes as soon as the pending bytes are written
        Closed,
    };

    void readAvailable();
    void processHead();
    void processFrames();
    void writeBytes(const char *data, qint64 size);
    void writeFrame(int opcode, const char *payload, qint64 size);
    void sendClose(int code, const QByteArray &reason);
    void fail(int code, const char *reason);
    void flush();
    void updateEvents();
    void breakConnection();
    void finish();

    int m_fd;
    EpollDispatcher *m_dispatcher;
    Listener *m_listener;
    State m_state = State::ReadingHead;
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
    bool m_registered = false;
    bool m_writeEventEnabled = false;
    bool m_broken = false; // a send failed or abort() was called; epoll reports the hang-up
    qint64 m_maxMessageSize = 64 * 1024;

    QByteArray m_input; // bytes not parsed yet
    QByteArray m_message; // a fragmented message being assembled
    int m_messageOpcode = 0; // opcode of the fragmented message, 0 when none
    QByteArray m_pending; // bytes the kernel did not take yet
    qint64 m_pendingOffset = 0;

    int m_closeCode = QWebSocketProtocol::CloseCodeAbnormalDisconnection;
    QString m_closeReason;
};

} // namespace Omw
