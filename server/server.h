#pragma once

#include "metrics.h"
#include "serverconfig.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QUrl>
#include <QWebSocketServer>

#include <memory>

class QTcpServer;
class QTcpSocket;

namespace Omw {

class Connection;
class SessionManager;
struct HttpRequestHead;

// omw-server: Phoenix Channels over WebSocket at /socket/websocket, plus GET /healthz and
// GET /metrics, on one port. A front of its own reads each request head first, so that it can
// answer plain HTTP, reject an unsupported `vsn` or Origin with 403 before the upgrade, and hand
// WebSocket upgrades to a QWebSocketServer.
class Server : public QObject
{
    Q_OBJECT

public:
    explicit Server(const ServerConfig &config, QObject *parent = nullptr);
    ~Server() override;

    // Starts listening on the configured address and port. Returns false with errorString() set
    // when the port cannot be bound or the TLS files cannot be read.
    bool listen();
    // Stops listening and closes every connection with 1001 (going away). Rides live in memory
    // only, so they are not ended: a restarted server takes their riders back.
    void close();

    bool isListening() const;
    QString errorString() const { return m_errorString; }
    QHostAddress serverAddress() const;
    quint16 serverPort() const;
    // ws://ADDRESS:PORT/socket (wss:// with TLS): the URL clients are configured with.
    QUrl socketUrl() const;

    SessionManager *sessions() const { return m_sessions; }
    const Metrics &metrics() const { return m_metrics; }
    int connectionCount() const { return int(m_connections.size()); }

Q_SIGNALS:
    void connectionOpened(quint64 id);
    void connectionClosed(quint64 id);

private:
    void acceptConnections();
    void readRequestHead(QTcpSocket *socket);
    void answerHttp(QTcpSocket *socket, const HttpRequestHead &head);
    void upgrade(QTcpSocket *socket, const HttpRequestHead &head);
    void reject(QTcpSocket *socket, const QByteArray &response);
    void adoptWebSockets();
    QHostAddress clientAddress(QTcpSocket *socket, const HttpRequestHead *head) const;
    QByteArray healthJson() const;
    void sweep();

    ServerConfig m_config;
    Metrics m_metrics;
    SessionManager *m_sessions;
    QTcpServer *m_tcpServer = nullptr;
    QWebSocketServer m_webSocketServer;
    QHash<QTcpSocket *, qint64> m_httpPending; // sockets whose request head is being read
    QHash<QString, QHostAddress> m_forwardedAddresses; // "address:port" to client, while upgrading
    QSet<Connection *> m_connections;
    quint64 m_nextConnectionId = 1;
    QString m_errorString;
    QElapsedTimer m_uptime;
    QTimer m_sweepTimer;
};

} // namespace Omw
