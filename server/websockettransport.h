#pragma once

#include "phoenixmessage.h"

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <QWebSocketProtocol>

namespace Omw {

class OutgoingFrame;

// One client's WebSocket, whatever carries it: the server's own epoll transport for plain
// connections, or a QWebSocket for TLS. A Connection talks to it through this interface.
class WebSocketTransport
{
public:
    // Receives what the peer sends. Callbacks never come from inside a send, a close or an
    // abort, so a handler may change shared lists from them.
    class Handler
    {
    public:
        virtual void textMessageReceived(const QByteArray &utf8) = 0;
        virtual void binaryMessageReceived() = 0;
        virtual void controlFrameReceived() = 0; // a ping or a pong: the peer is alive
        // The connection is gone, for the reason closeCode() returns. No callback follows.
        virtual void transportClosed() = 0;

    protected:
        ~Handler() = default;
    };

    virtual ~WebSocketTransport() = default;

    void setHandler(Handler *handler) { m_handler = handler; }

    virtual void sendText(const QByteArray &utf8) = 0;
    // Sends a broadcast, encoded once for every recipient of the same serializer.
    virtual void sendFrame(const OutgoingFrame &frame, Phoenix::Serializer serializer) = 0;
    // Bytes accepted by sendText() and sendFrame() but not yet handed to the kernel.
    virtual qint64 bytesToWrite() const = 0;
    // Starts the closing handshake with `code`.
    virtual void close(QWebSocketProtocol::CloseCode code, const QString &reason) = 0;
    // Drops the TCP connection without a closing handshake.
    virtual void abort() = 0;
    // The close code: ours if we closed first, the peer's if it did, 1006 without a handshake.
    virtual int closeCode() const = 0;
    virtual QString closeReason() const = 0;

protected:
    Handler *m_handler = nullptr;
};

} // namespace Omw
