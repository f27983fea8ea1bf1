#pragma once

#include "websockettransport.h"

class QWebSocket;

namespace Omw {

// A WebSocketTransport over a QWebSocket, for TLS connections, which QSslServer and
// QWebSocketServer set up.
class QtWebSocketTransport final : public WebSocketTransport
{
public:
    // Takes ownership of `socket`, which must be open.
    QtWebSocketTransport(QWebSocket *socket, qint64 maxMessageSize);
    ~QtWebSocketTransport() override;

    void sendText(const QByteArray &utf8) override;
    void sendFrame(const OutgoingFrame &frame, Phoenix::Serializer serializer) override;
    qint64 bytesToWrite() const override;
    void close(QWebSocketProtocol::CloseCode code, const QString &reason) override;
    void abort() override;
    int closeCode() const override;
    QString closeReason() const override;

private:
    QWebSocket *m_socket;
    bool m_closeHandshake = false; // a close frame was sent, by close() or in answer to the peer's
};

} // namespace Omw
