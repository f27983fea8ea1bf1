#pragma once

#include "epolldispatcher.h"
#include "epollsocket.h"
#include "metrics.h"
#include "serverconfig.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QUrl>
#include <QWebSocketServer>

class QTcpServer;
class QTcpSocket;

namespace Omw {

class Connection;
class SessionManager;
class WebSocketTransport;
struct HttpRequestHead;

// omw-server: Phoenix Channels over WebSocket at /socket/websocket, plus GET /healthz and
// GET /metrics, on one port.
//
// Plain connections are accepted as raw file descriptors and served by EpollSocket: the request
// head is read, plain HTTP is answered, an unsupported `vsn` or Origin gets 403 before the
// upgrade, and WebSockets are framed by the server itself, which keeps no buffer for an idle
// connection and makes a broadcast one system call per follower. TLS connections go through
// QSslServer and QWebSocketServer, which handles their upgrade.
class Server : public QObject, private EpollSocket::Listener
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
    bool setUpTls();
    void onAcceptError(QAbstractSocket::SocketError error);
    // Counts an accept() failure and logs the first one since the last sweep.
    void reportAcceptError(const QString &error, bool outOfFiles, bool rejectsWaiting);
    void rejectWaitingWithSpareDescriptor();
    // Plain connections.
    void acceptPlainConnections();
    void acceptPlain(qintptr fd);
    void requestHeadReceived(EpollSocket *socket, const HttpRequestHead &head) override;
    void requestHeadInvalid(EpollSocket *socket, HttpRequestHead::Status status) override;
    void closedBeforeUpgrade(EpollSocket *socket) override;
    // TLS connections.
    void acceptTls();
    void readTlsRequestHead(QTcpSocket *socket);
    void rejectTls(QTcpSocket *socket, const QByteArray &response);
    void adoptWebSockets();

    // Shared by both: the HTTP response for a request that is not an upgrade, the rejection of
    // an upgrade (empty when it may proceed), and the connection itself.
    QByteArray answerHttp(const HttpRequestHead &head, const QHostAddress &client);
    QByteArray checkUpgrade(const HttpRequestHead &head, const QHostAddress &client);
    void addConnection(std::unique_ptr<WebSocketTransport> transport,
                       Phoenix::Serializer serializer, const QHostAddress &client);
    bool isAtConnectionLimit() const;
    QHostAddress clientAddress(const QHostAddress &peer, const HttpRequestHead *head) const;
    QByteArray healthJson() const;
    void sweep();

    ServerConfig m_config;
    Metrics m_metrics;
    SessionManager *m_sessions;
    EpollDispatcher m_dispatcher;
    // The listening socket of plain connections, in the epoll set.
    struct Acceptor final : EpollClient
    {
        Server *server = nullptr;
        void handleEvents(std::uint32_t) override { server->acceptPlainConnections(); }
    };
    Acceptor m_acceptor;
    QTcpServer *m_tcpServer = nullptr;
    bool m_tls = false;
    QWebSocketServer m_webSocketServer; // TLS upgrades only
    QHash<EpollSocket *, qint64> m_plainPending; // reading the request head, or answering it
    QHash<QTcpSocket *, qint64> m_tlsPending;
    QHash<QString, QHostAddress> m_forwardedAddresses; // "address/port" to client, while upgrading
    QSet<Connection *> m_connections;
    quint64 m_nextConnectionId = 1;
    int m_acceptErrorsSinceLog = 0; // logged once, then counted until the next sweep
    int m_spareDescriptor = -1; // /dev/null, closed to accept and reject when out of files
    QString m_errorString;
    QElapsedTimer m_uptime;
    QTimer m_sweepTimer;
};

} // namespace Omw
