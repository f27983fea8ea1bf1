#include "server.h"

#include "connection.h"
#include "httprequest.h"
#include "logging.h"
#include "sessionmanager.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>
#include <QWebSocket>

#include <algorithm>
#include <utility>

namespace Omw {

namespace {

const QString socketPath = QStringLiteral("/socket/websocket");
constexpr qint64 requestHeadTimeout = 10'000; // ms for a client to send its request head
constexpr qint64 closeTimeout = 5'000; // ms for a peer to complete a close before it is aborted

qint64 monotonicNow()
{
    return QDeadlineTimer::current().deadline();
}

QString endpointKey(const QHostAddress &address, quint16 port)
{
    return address.toString() + QLatin1Char('/') + QString::number(port);
}

// IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; limits and logs use a.b.c.d.
QHostAddress normalized(const QHostAddress &address)
{
    bool isIpv4 = false;
    const quint32 ipv4 = address.toIPv4Address(&isIpv4);
    return isIpv4 ? QHostAddress(ipv4) : address;
}

} // namespace

Server::Server(const ServerConfig &config, QObject *parent)
    : QObject(parent),
      m_config(config),
      m_sessions(new SessionManager(config, &m_metrics, this)),
      m_webSocketServer(QStringLiteral("omw-server/") + QCoreApplication::applicationVersion(),
                        QWebSocketServer::NonSecureMode)
{
    m_uptime.start();
    // phoenix.js 1.8 with authToken offers "phoenix" and "base64url.bearer.phx.<token>"; it
    // gives up unless the server selects "phoenix".
    m_webSocketServer.setSupportedSubprotocols({QStringLiteral("phoenix")});
    m_webSocketServer.setHandshakeTimeout(int(requestHeadTimeout));
    connect(&m_webSocketServer, &QWebSocketServer::newConnection, this, &Server::adoptWebSockets);

    m_sweepTimer.setInterval(int(std::clamp<qint64>(m_config.idleTimeout / 4, 20, 1000)));
    connect(&m_sweepTimer, &QTimer::timeout, this, &Server::sweep);
}

Server::~Server()
{
    close();
    // Rides and connections go together: no connection runs its leave logic, which would
    // broadcast to followers that are being deleted too.
    const QSet<Connection *> connections = std::exchange(m_connections, {});
    for (Connection *connection : connections) {
        connection->disconnect(this);
        connection->abandon();
    }
    qDeleteAll(connections);
    delete m_sessions;
    m_sessions = nullptr;
}

bool Server::listen()
{
    const bool tls = !m_config.tlsCertificate.isEmpty() || !m_config.tlsKey.isEmpty();
    if (tls) {
        QFile certificateFile(m_config.tlsCertificate);
        QFile keyFile(m_config.tlsKey);
        if (m_config.tlsCertificate.isEmpty() || m_config.tlsKey.isEmpty()) {
            m_errorString = QStringLiteral("TLS needs both --tls-cert and --tls-key");
            return false;
        }
        if (!certificateFile.open(QIODevice::ReadOnly)) {
            m_errorString = QStringLiteral("cannot read the TLS certificate %1: %2")
                                .arg(m_config.tlsCertificate, certificateFile.errorString());
            return false;
        }
        if (!keyFile.open(QIODevice::ReadOnly)) {
            m_errorString = QStringLiteral("cannot read the TLS key %1: %2")
                                .arg(m_config.tlsKey, keyFile.errorString());
            return false;
        }
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certificateFile.readAll());
        const QByteArray keyPem = keyFile.readAll();
        QSslKey key(keyPem, QSsl::Rsa);
        if (key.isNull()) {
            key = QSslKey(keyPem, QSsl::Ec);
        }
        if (chain.isEmpty()) {
            m_errorString
                = QStringLiteral("%1 holds no PEM certificate").arg(m_config.tlsCertificate);
            return false;
        }
        if (key.isNull()) {
            m_errorString = QStringLiteral("%1 holds no unencrypted PEM RSA or EC private key")
                                .arg(m_config.tlsKey);
            return false;
        }
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setLocalCertificateChain(chain);
        configuration.setPrivateKey(key);
        configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
        auto *sslServer = new QSslServer(this);
        sslServer->setSslConfiguration(configuration);
        sslServer->setHandshakeTimeout(int(requestHeadTimeout));
        connect(sslServer, &QSslServer::errorOccurred, this,
                [](QSslSocket *socket, QAbstractSocket::SocketError) {
                    qCInfo(lcConnection).noquote()
                        << "TLS connection from" << normalized(socket->peerAddress()).toString()
                        << "failed:" << socket->errorString();
                });
        m_tcpServer = sslServer;
    } else {
        m_tcpServer = new QTcpServer(this);
    }
    // The default backlog of 50 drops connections under a burst of reconnecting clients.
    m_tcpServer->setListenBacklogSize(4096);
    m_tcpServer->setMaxPendingConnections(4096);
    connect(m_tcpServer, &QTcpServer::pendingConnectionAvailable, this, &Server::acceptConnections);
    if (!m_tcpServer->listen(m_config.bind, m_config.port)) {
        m_errorString = QStringLiteral("cannot listen on %1 port %2: %3")
                            .arg(m_config.bind.toString())
                            .arg(m_config.port)
                            .arg(m_tcpServer->errorString());
        delete m_tcpServer;
        m_tcpServer = nullptr;
        return false;
    }
    m_sweepTimer.start();
    qCInfo(lcServer).noquote() << "listening on" << socketUrl().toString();
    return true;
}

void Server::close()
{
    if (!m_tcpServer) {
        return;
    }
    m_sweepTimer.stop();
    m_tcpServer->close();
    delete m_tcpServer;
    m_tcpServer = nullptr;
    const QList<QTcpSocket *> pending = m_httpPending.keys();
    m_httpPending.clear();
    for (QTcpSocket *socket : pending) {
        socket->abort();
        socket->deleteLater();
    }
    const QSet<Connection *> connections = m_connections;
    for (Connection *connection : connections) {
        connection->close(QWebSocketProtocol::CloseCodeGoingAway,
                          QStringLiteral("the server is shutting down"));
    }
    qCInfo(lcServer).noquote() << "stopped listening;" << connections.size()
                               << "connections closed";
}

bool Server::isListening() const
{
    return m_tcpServer && m_tcpServer->isListening();
}

QHostAddress Server::serverAddress() const
{
    return m_tcpServer ? m_tcpServer->serverAddress() : QHostAddress();
}

quint16 Server::serverPort() const
{
    return m_tcpServer ? m_tcpServer->serverPort() : 0;
}

QUrl Server::socketUrl() const
{
    QUrl url;
    url.setScheme(qobject_cast<QSslServer *>(m_tcpServer) ? QStringLiteral("wss")
                                                          : QStringLiteral("ws"));
    QHostAddress host = serverAddress();
    if (host == QHostAddress::Any || host == QHostAddress::AnyIPv4) {
        host = QHostAddress::LocalHost;
    } else if (host == QHostAddress::AnyIPv6) {
        host = QHostAddress::LocalHostIPv6;
    }
    url.setHost(host.toString());
    url.setPort(serverPort());
    url.setPath(QStringLiteral("/socket"));
    return url;
}

void Server::acceptConnections()
{
    while (m_tcpServer && m_tcpServer->hasPendingConnections()) {
        QTcpSocket *socket = m_tcpServer->nextPendingConnection();
        if (!socket) {
            break;
        }
        if (m_connections.size() + m_httpPending.size() >= m_config.maxConnections) {
            ++m_metrics.connectionsRejected;
            qCWarning(lcServer).noquote()
                << "connection from" << normalized(socket->peerAddress()).toString()
                << "rejected: at the maximum of" << m_config.maxConnections << "connections";
            reject(socket,
                   httpJsonError(503,
                                 QStringLiteral("the server is at its maximum of "
                                                "%1 connections; try again later")
                                     .arg(m_config.maxConnections)));
            continue;
        }
        m_httpPending.insert(socket, monotonicNow());
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { readRequestHead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            if (m_httpPending.remove(socket)) {
                socket->deleteLater();
            }
        });
        if (socket->bytesAvailable() > 0) {
            readRequestHead(socket);
        }
    }
}

void Server::readRequestHead(QTcpSocket *socket)
{
    if (!m_httpPending.contains(socket)) {
        return;
    }
    HttpRequestHead head;
    const QByteArray data = socket->peek(HttpRequestHead::maxSize);
    switch (HttpRequestHead::parse(data, &head)) {
    case HttpRequestHead::Incomplete:
        return;
    case HttpRequestHead::TooLarge:
        reject(
            socket,
            httpJsonError(
                431,
                QStringLiteral("the request head exceeds %1 bytes").arg(HttpRequestHead::maxSize)));
        return;
    case HttpRequestHead::Invalid:
        reject(socket, httpJsonError(400, QStringLiteral("not an HTTP/1.1 request")));
        return;
    case HttpRequestHead::Complete:
        break;
    }
    if (head.url.path() == socketPath && head.isWebSocketUpgrade()) {
        upgrade(socket, head);
    } else {
        socket->read(head.size);
        answerHttp(socket, head);
    }
}

void Server::answerHttp(QTcpSocket *socket, const HttpRequestHead &head)
{
    ++m_metrics.httpRequests;
    const QString path = head.url.path();
    qCDebug(lcHttp).noquote() << head.method << path << "from"
                              << normalized(socket->peerAddress()).toString();
    const bool isGet = head.method == "GET" || head.method == "HEAD";
    QByteArray response;
    if (path == QLatin1String("/healthz") || path == QLatin1String("/metrics")) {
        if (!isGet) {
            response = httpJsonError(405, QStringLiteral("%1 accepts only GET").arg(path));
        } else if (path == QLatin1String("/healthz")) {
            response = httpResponse(200, "application/json", healthJson());
        } else {
            response = httpResponse(200, "text/plain; version=0.0.4; charset=utf-8",
                                    m_metrics.toPrometheus(*m_sessions));
        }
    } else if (path == socketPath) {
        response = httpJsonError(400, QStringLiteral("%1 expects a WebSocket upgrade").arg(path));
    } else {
        response = httpJsonError(404,
                                 QStringLiteral("no route for %1 %2; the WebSocket endpoint "
                                                "is %3")
                                     .arg(QString::fromLatin1(head.method), path, socketPath));
    }
    if (head.method == "HEAD") {
        response.truncate(response.indexOf("\r\n\r\n") + 4);
    }
    reject(socket, response);
}

void Server::upgrade(QTcpSocket *socket, const HttpRequestHead &head)
{
    const QUrlQuery query(head.url);
    const std::optional<QString> vsn = query.hasQueryItem(QStringLiteral("vsn"))
        ? std::optional<QString>(query.queryItemValue(QStringLiteral("vsn")))
        : std::nullopt;
    const QHostAddress client = clientAddress(socket, &head);
    if (!Phoenix::serializerForVsn(vsn)) {
        ++m_metrics.connectionsRejected;
        qCWarning(lcConnection).noquote()
            << "upgrade from" << client.toString() << "rejected: unsupported vsn" << *vsn;
        reject(socket,
               httpJsonError(403,
                             QStringLiteral("unsupported serializer version vsn=%1: "
                                            "use 2.0.0 or 1.0.0")
                                 .arg(vsn->left(40))));
        return;
    }
    const QString origin = QString::fromUtf8(head.header("origin"));
    if (!m_config.allowedOrigins.isEmpty() && !origin.isEmpty()
        && !m_config.allowedOrigins.contains(origin)) {
        ++m_metrics.connectionsRejected;
        qCWarning(lcConnection).noquote() << "upgrade from" << client.toString()
                                          << "rejected: Origin" << origin << "is not allowed";
        reject(socket,
               httpJsonError(403,
                             QStringLiteral("Origin %1 is not allowed on this "
                                            "server")
                                 .arg(origin.left(100))));
        return;
    }
    m_httpPending.remove(socket);
    socket->disconnect(this);
    if (client != normalized(socket->peerAddress())) {
        m_forwardedAddresses.insert(endpointKey(socket->peerAddress(), socket->peerPort()), client);
    }
    m_webSocketServer.handleConnection(socket);
}

void Server::adoptWebSockets()
{
    while (m_webSocketServer.hasPendingConnections()) {
        QWebSocket *socket = m_webSocketServer.nextPendingConnection();
        if (!socket) {
            break;
        }
        const QUrlQuery query(socket->requestUrl());
        const std::optional<QString> vsn = query.hasQueryItem(QStringLiteral("vsn"))
            ? std::optional<QString>(query.queryItemValue(QStringLiteral("vsn")))
            : std::nullopt;
        const Phoenix::Serializer serializer
            = Phoenix::serializerForVsn(vsn).value_or(Phoenix::Serializer::V1);
        const QHostAddress client
            = m_forwardedAddresses.take(endpointKey(socket->peerAddress(), socket->peerPort()));
        const quint64 id = m_nextConnectionId++;
        auto *connection = new Connection(
            socket, serializer, id, client.isNull() ? normalized(socket->peerAddress()) : client,
            ServerContext {&m_config, m_sessions, &m_metrics}, this);
        m_connections.insert(connection);
        ++m_metrics.connectionsAccepted;
        connect(connection, &Connection::closed, this, [this](Connection *closed) {
            m_connections.remove(closed);
            Q_EMIT connectionClosed(closed->id());
            closed->deleteLater();
        });
        qCInfo(lcConnection).nospace().noquote()
            << "connection " << id << " opened from " << connection->peerAddress().toString()
            << ", serializer " << (serializer == Phoenix::Serializer::V2 ? "2.0.0" : "1.0.0")
            << ", " << m_connections.size() << " open";
        Q_EMIT connectionOpened(id);
    }
}

QHostAddress Server::clientAddress(QTcpSocket *socket, const HttpRequestHead *head) const
{
    const QHostAddress peer = normalized(socket->peerAddress());
    if (!head || !m_config.trustedProxies.contains(peer)) {
        return peer;
    }
    // The proxy appends the address it saw, so the last entry is the one it vouches for.
    const QList<QByteArray> forwarded = head->header("x-forwarded-for").split(',');
    const QHostAddress client(QString::fromLatin1(forwarded.last().trimmed()));
    return client.isNull() ? peer : normalized(client);
}

void Server::reject(QTcpSocket *socket, const QByteArray &response)
{
    m_httpPending.remove(socket);
    socket->disconnect(this);
    socket->write(response);
    socket->disconnectFromHost();
    if (socket->state() == QAbstractSocket::UnconnectedState) {
        socket->deleteLater();
    } else {
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        // A peer that never reads its response must not keep the socket forever.
        QTimer::singleShot(closeTimeout, socket, [socket] { socket->abort(); });
    }
}

QByteArray Server::healthJson() const
{
    const QJsonObject health {
        {QStringLiteral("status"), QStringLiteral("ok")},
        {QStringLiteral("version"), QCoreApplication::applicationVersion()},
        {QStringLiteral("uptime_seconds"), double(m_uptime.elapsed() / 1000)},
        {QStringLiteral("connections"), int(m_connections.size())},
        {QStringLiteral("rides"), m_sessions->sessionCount()},
    };
    return QJsonDocument(health).toJson(QJsonDocument::Compact) + '\n';
}

void Server::sweep()
{
    const qint64 now = monotonicNow();
    for (auto it = m_httpPending.begin(); it != m_httpPending.end();) {
        if (now - it.value() > requestHeadTimeout) {
            QTcpSocket *socket = it.key();
            qCInfo(lcHttp).noquote()
                << "connection from" << normalized(socket->peerAddress()).toString()
                << "sent no complete request head in" << requestHeadTimeout / 1000 << "s, closing";
            it = m_httpPending.erase(it);
            socket->disconnect(this);
            socket->abort();
            socket->deleteLater();
        } else {
            ++it;
        }
    }
    for (Connection *connection : std::as_const(m_connections)) {
        if (connection->isClosing()) {
            if (now - connection->closingSince() > closeTimeout) {
                connection->abort();
            }
        } else if (now - connection->lastActivity() > m_config.idleTimeout) {
            qCInfo(lcConnection).nospace().noquote()
                << "connection " << connection->id() << " sent nothing for "
                << m_config.idleTimeout / 1000.0 << " s, closing";
            connection->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("idle timeout"));
        }
    }
}

} // namespace Omw
