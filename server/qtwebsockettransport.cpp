#include "qtwebsockettransport.h"

#include "outgoingframe.h"

#include <QWebSocket>

namespace Omw {

QtWebSocketTransport::QtWebSocketTransport(QWebSocket *socket, qint64 maxMessageSize)
    : m_socket(socket)
{
    m_socket->setParent(nullptr);
    m_socket->setMaxAllowedIncomingFrameSize(quint64(maxMessageSize));
    m_socket->setMaxAllowedIncomingMessageSize(quint64(maxMessageSize));
    QObject::connect(m_socket, &QWebSocket::textMessageReceived, m_socket,
                     [this](const QString &text) {
                         if (m_handler) {
                             m_handler->textMessageReceived(text.toUtf8());
                         }
                     });
    QObject::connect(m_socket, &QWebSocket::binaryMessageReceived, m_socket,
                     [this](const QByteArray &) {
                         if (m_handler) {
                             m_handler->binaryMessageReceived();
                         }
                     });
    QObject::connect(m_socket, &QWebSocket::pong, m_socket, [this] {
        if (m_handler) {
            m_handler->controlFrameReceived();
        }
    });
    // QWebSocket emits aboutToClose when it sends a close frame, which it also does in answer to
    // the peer's. Without one, the TCP connection just dropped.
    QObject::connect(m_socket, &QWebSocket::aboutToClose, m_socket,
                     [this] { m_closeHandshake = true; });
    // Queued, so that the handler is never called from inside a send, a close or an abort.
    QObject::connect(
        m_socket, &QWebSocket::disconnected, m_socket,
        [this] {
            if (m_handler) {
                m_handler->transportClosed();
            }
        },
        Qt::QueuedConnection);
}

QtWebSocketTransport::~QtWebSocketTransport()
{
    m_socket->disconnect();
    delete m_socket;
}

void QtWebSocketTransport::sendText(const QByteArray &utf8)
{
    m_socket->sendTextMessage(QString::fromUtf8(utf8));
}

void QtWebSocketTransport::sendFrame(const OutgoingFrame &frame, Phoenix::Serializer serializer)
{
    m_socket->sendTextMessage(frame.text(serializer));
}

qint64 QtWebSocketTransport::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void QtWebSocketTransport::close(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    m_socket->close(code, reason);
}

void QtWebSocketTransport::abort()
{
    m_socket->abort();
}

int QtWebSocketTransport::closeCode() const
{
    // QWebSocket (Qt 6.4) reports 1000 for a connection that dropped without a close frame.
    // RFC 6455 names that case 1006, and the plain transport reports it so.
    return m_closeHandshake ? int(m_socket->closeCode())
                            : int(QWebSocketProtocol::CloseCodeAbnormalDisconnection);
}

QString QtWebSocketTransport::closeReason() const
{
    return m_socket->closeReason();
}

} // namespace Omw
