#include "server.h"

#include "connection.h"
#include "httprequest.h"
#include "logging.h"
#include "qtwebsockettransport.h"
#include "sessionmanager.h"

#include <QCoreApplication>
#include <QCryptographicHash>
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
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
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

std::optional<QString> vsnOf(const QUrl &url)
{
    const QUrlQuery query(url);
    if (!query.hasQueryItem(QStringLiteral("vsn"))) {
        return std::nullopt;
    }
    return query.queryItemValue(QStringLiteral("vsn"));
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
    if (m_spareDescriptor >= 0) {
        ::close(m_spareDescriptor);
    }
    const QList<EpollSocket *> pending = m_plainPending.keys();
    m_plainPending.clear();
    qDeleteAll(pending);
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

bool Server::setUpTls()
{
    if (m_config.tlsCertificate.isEmpty() || m_config.tlsKey.isEmpty()) {
        m_errorString = QStringLiteral("TLS needs both --tls-cert and --tls-key");
        return false;
    }
    QFile certificateFile(m_config.tlsCertificate);
    if (!certificateFile.open(QIODevice::ReadOnly)) {
        m_errorString = QStringLiteral("cannot read the TLS certificate %1: %2")
                            .arg(m_config.tlsCertificate, certificateFile.errorString());
        return false;
    }
    QFile keyFile(m_config.tlsKey);
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
        m_errorString = QStringLiteral("%1 holds no PEM certificate").arg(m_config.tlsCertificate);
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
    connect(sslServer, &QTcpServer::pendingConnectionAvailable, this, &Server::acceptTls);
    m_tcpServer = sslServer;
    m_tls = true;
    return true;
}

bool Server::listen()
{
    if (m_spareDescriptor < 0) {
        m_spareDescriptor = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (!m_dispatcher.isValid()) {
        m_errorString
            = QStringLiteral("cannot create an epoll set: %1").arg(m_dispatcher.errorString());
        return false;
    }
    const bool tls = !m_config.tlsCertificate.isEmpty() || !m_config.tlsKey.isEmpty();
    if (tls) {
        if (!setUpTls()) {
            return false;
        }
    } else {
        m_tcpServer = new QTcpServer(this);
    }
    // The default backlog of 50 drops connections under a burst of reconnecting clients.
    m_tcpServer->setListenBacklogSize(4096);
    m_tcpServer->setMaxPendingConnections(4096);
    connect(m_tcpServer, &QTcpServer::acceptError, this, &Server::onAcceptError);
    if (!m_tcpServer->listen(m_config.bind, m_config.port)) {
        m_errorString = QStringLiteral("cannot listen on %1 port %2: %3")
                            .arg(m_config.bind.toString())
                            .arg(m_config.port)
                            .arg(m_tcpServer->errorString());
        delete m_tcpServer;
        m_tcpServer = nullptr;
        return false;
    }
    if (!m_tls) {
        // Plain connections are accepted from the epoll set: QTcpServer 6.4 keeps the first
        // error its socket engine saw, so after one EAGAIN it takes EMFILE for a temporary
        // error and spins on accept() without reporting it.
        m_tcpServer->pauseAccepting();
        m_acceptor.server = this;
        if (!m_dispatcher.add(int(m_tcpServer->socketDescriptor()), EPOLLIN, &m_acceptor)) {
            m_errorString = QStringLiteral("cannot watch the listening socket");
            delete m_tcpServer;
            m_tcpServer = nullptr;
            return false;
        }
    }
    m_sweepTimer.start();
    const QHostAddress bound = m_tcpServer->serverAddress();
    if (bound == QHostAddress::Any || bound == QHostAddress::AnyIPv4
        || bound == QHostAddress::AnyIPv6) {
        qCInfo(lcServer).noquote()
            << "listening on" << socketUrl().toString() << "(bound to" << bound.toString() << "port"
            << serverPort() << "on every interface)";
    } else {
        qCInfo(lcServer).noquote() << "listening on" << socketUrl().toString();
    }
    return true;
}

void Server::close()
{
    if (!m_tcpServer) {
        return;
    }
    m_sessions->saveState();
    m_sweepTimer.stop();
    if (!m_tls) {
        m_dispatcher.remove(int(m_tcpServer->socketDescriptor()));
    }
    m_tcpServer->close();
    delete m_tcpServer;
    m_tcpServer = nullptr;
    for (EpollSocket *socket : m_plainPending.keys()) {
        socket->abort();
    }
    const QList<QTcpSocket *> tlsPending = m_tlsPending.keys();
    m_tlsPending.clear();
    for (QTcpSocket *socket : tlsPending) {
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
    url.setScheme(m_tls ? QStringLiteral("wss") : QStringLiteral("ws"));
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

void Server::onAcceptError(QAbstractSocket::SocketError error)
{
    if (!m_tcpServer) {
        return;
    }
    // Only the TLS listener reports here; plain connections are accepted from the epoll set.
    reportAcceptError(m_tcpServer->errorString(), error == QAbstractSocket::SocketResourceError,
                      false);
    // The listening socket stays readable while accept() fails, so retrying at once would
    // spin: pause, and try again when connections may have closed.
    m_tcpServer->pauseAccepting();
    QTimer::singleShot(200, this, [this] {
        if (m_tcpServer) {
            m_tcpServer->resumeAccepting();
        }
    });
}

void Server::acceptPlainConnections()
{
    const int listening = int(m_tcpServer->socketDescriptor());
    // A bounded batch, so that a flood of connections cannot starve the connections already
    // open; the level-triggered epoll set reports the rest on the next round.
    for (int accepted = 0; accepted < 256; ++accepted) {
        const int fd = ::accept4(listening, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            acceptPlain(fd);
            continue;
        }
        const int error = errno;
        if (error == EINTR || error == ECONNABORTED) {
            continue;
        }
        if (error == EAGAIN || error == EWOULDBLOCK) {
            return;
        }
        const bool outOfFiles
            = error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
        reportAcceptError(QString::fromLocal8Bit(std::strerror(error)), outOfFiles, outOfFiles);
        if (outOfFiles) {
            rejectWaitingWithSpareDescriptor();
        }
        // The listening socket stays readable while accept() fails, so retrying at once would
        // spin: stop watching it, and try again when connections may have closed.
        m_dispatcher.modify(listening, 0, &m_acceptor);
        QTimer::singleShot(200, this, [this, listening] {
            if (m_tcpServer && int(m_tcpServer->socketDescriptor()) == listening) {
                m_dispatcher.modify(listening, EPOLLIN, &m_acceptor);
            }
        });
        return;
    }
}

void Server::reportAcceptError(const QString &error, bool outOfFiles, bool rejectsWaiting)
{
    ++m_metrics.acceptErrors;
    if (m_acceptErrorsSinceLog++ > 0) {
        return; // counted, and summed up by the next sweep
    }
    QString advice;
    if (outOfFiles) {
        advice = QStringLiteral(" (raise the open-file limit, ulimit -n, or lower "
                                "--max-connections)");
    }
    if (rejectsWaiting) {
        advice += QStringLiteral("; waiting clients get HTTP 503");
    }
    qCWarning(lcServer).noquote() << "accepting connections failed:" << error + advice;
}

void Server::rejectWaitingWithSpareDescriptor()
{
    // One descriptor is kept in reserve, so that clients waiting in the backlog while the
    // process is out of descriptors get an answer instead of a hang.
    const QByteArray response = httpJsonError(
        503, QStringLiteral("the server is out of file descriptors; try again later"));
    for (int rejected = 0; m_spareDescriptor >= 0 && rejected < 1000; ++rejected) {
        ::close(m_spareDescriptor);
        m_spareDescriptor = -1;
        const int fd = ::accept4(int(m_tcpServer->socketDescriptor()), nullptr, nullptr,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            [[maybe_unused]] const ssize_t sent = ::send(
                fd, response.constData(), size_t(response.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            ++m_metrics.connectionsRejected;
        }
        m_spareDescriptor = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            break;
        }
    }
}

bool Server::isAtConnectionLimit() const
{
    return m_connections.size() + m_plainPending.size() + m_tlsPending.size()
        >= m_config.maxConnections;
}

void Server::acceptPlain(qintptr descriptor)
{
    const int fd = int(descriptor);
    if (isAtConnectionLimit()) {
        ++m_metrics.connectionsRejected;
        qCWarning(lcServer).noquote()
            << "connection rejected: at the maximum of" << m_config.maxConnections << "connections";
        const QByteArray response = httpJsonError(
            503,
            QStringLiteral("the server is at its maximum of %1 connections; try again "
                           "later")
                .arg(m_config.maxConnections));
        [[maybe_unused]] const ssize_t sent = ::send(
            fd, response.constData(), size_t(response.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    // Frames are small and latency matters more than packing them.
    const int noDelay = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &noDelay, sizeof(noDelay));
    auto *socket = new EpollSocket(fd, &m_dispatcher, this);
    if (!socket->isRegistered()) {
        qCWarning(lcServer) << "cannot watch an accepted socket; closing it";
        delete socket;
        return;
    }
    m_plainPending.insert(socket, monotonicNow());
}

void Server::requestHeadReceived(EpollSocket *socket, const HttpRequestHead &head)
{
    const QHostAddress client = clientAddress(socket->peerAddress(), &head);
    if (head.url.path() != socketPath || !head.isWebSocketUpgrade()) {
        socket->respondAndClose(answerHttp(head, client));
        return;
    }
    QByteArray rejection = checkUpgrade(head, client);
    const QByteArray key = head.header("sec-websocket-key");
    if (rejection.isEmpty() && head.method != "GET") {
        rejection = httpJsonError(400, QStringLiteral("a WebSocket upgrade is a GET request"));
    } else if (rejection.isEmpty() && head.header("sec-websocket-version") != "13") {
        rejection = httpJsonError(426, QStringLiteral("only WebSocket version 13 is supported"));
        rejection.replace("\r\nConnection: close",
                          "\r\nSec-WebSocket-Version: 13\r\nConnection: close");
    } else if (rejection.isEmpty() && QByteArray::fromBase64(key).size() != 16) {
        rejection = httpJsonError(400,
                                  QStringLiteral("Sec-WebSocket-Key must be 16 bytes in "
                                                 "base64"));
    }
    if (!rejection.isEmpty()) {
        socket->respondAndClose(rejection);
        return;
    }

    QByteArray response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: "
        + QCryptographicHash::hash(QByteArray(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
                                   QCryptographicHash::Sha1)
              .toBase64();
    for (const QByteArray &protocol : head.header("sec-websocket-protocol").split(',')) {
        if (protocol.trimmed() == "phoenix") {
            response += "\r\nSec-WebSocket-Protocol: phoenix";
            break;
        }
    }
    response += "\r\nServer: omw-server/" + QCoreApplication::applicationVersion().toLatin1()
        + "\r\n\r\n";

    m_plainPending.remove(socket);
    socket->setMaxMessageSize(m_config.maxFrameSize);
    socket->acceptUpgrade(response);
    const Phoenix::Serializer serializer
        = Phoenix::serializerForVsn(vsnOf(head.url)).value_or(Phoenix::Serializer::V1);
    addConnection(std::unique_ptr<WebSocketTransport>(socket), serializer, client);
    socket->startWebSocket();
}

void Server::requestHeadInvalid(EpollSocket *socket, HttpRequestHead::Status status)
{
    socket->respondAndClose(
        status == HttpRequestHead::TooLarge ? httpJsonError(
            431, QStringLiteral("the request head exceeds %1 bytes").arg(HttpRequestHead::maxSize))
                                            : httpJsonError(
                                                400, QStringLiteral("not an HTTP/1.1 request")));
}

void Server::closedBeforeUpgrade(EpollSocket *socket)
{
    m_plainPending.remove(socket);
    m_dispatcher.retire(socket);
}

void Server::acceptTls()
{
    while (m_tcpServer && m_tcpServer->hasPendingConnections()) {
        QTcpSocket *socket = m_tcpServer->nextPendingConnection();
        if (!socket) {
            break;
        }
        if (isAtConnectionLimit()) {
            ++m_metrics.connectionsRejected;
            qCWarning(lcServer).noquote()
                << "connection from" << normalized(socket->peerAddress()).toString()
                << "rejected: at the maximum of" << m_config.maxConnections << "connections";
            rejectTls(socket,
                      httpJsonError(503,
                                    QStringLiteral("the server is at its maximum "
                                                   "of %1 connections; try again "
                                                   "later")
                                        .arg(m_config.maxConnections)));
            continue;
        }
        m_tlsPending.insert(socket, monotonicNow());
        connect(socket, &QTcpSocket::readyRead, this,
                [this, socket] { readTlsRequestHead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            if (m_tlsPending.remove(socket)) {
                socket->deleteLater();
            }
        });
        if (socket->bytesAvailable() > 0) {
            readTlsRequestHead(socket);
        }
    }
}

void Server::readTlsRequestHead(QTcpSocket *socket)
{
    if (!m_tlsPending.contains(socket)) {
        return;
    }
    HttpRequestHead head;
    switch (HttpRequestHead::parse(socket->peek(HttpRequestHead::maxSize), &head)) {
    case HttpRequestHead::Incomplete:
        return;
    case HttpRequestHead::TooLarge:
        rejectTls(
            socket,
            httpJsonError(
                431,
                QStringLiteral("the request head exceeds %1 bytes").arg(HttpRequestHead::maxSize)));
        return;
    case HttpRequestHead::Invalid:
        rejectTls(socket, httpJsonError(400, QStringLiteral("not an HTTP/1.1 request")));
        return;
    case HttpRequestHead::Complete:
        break;
    }
    const QHostAddress client = clientAddress(socket->peerAddress(), &head);
    if (head.url.path() != socketPath || !head.isWebSocketUpgrade()) {
        socket->read(head.size);
        rejectTls(socket, answerHttp(head, client));
        return;
    }
    const QByteArray rejection = checkUpgrade(head, client);
    if (!rejection.isEmpty()) {
        rejectTls(socket, rejection);
        return;
    }
    // QWebSocketServer reads the head again (it was only peeked) and completes the upgrade.
    m_tlsPending.remove(socket);
    socket->disconnect(this);
    if (client != normalized(socket->peerAddress())) {
        m_forwardedAddresses.insert(endpointKey(socket->peerAddress(), socket->peerPort()), client);
    }
    m_webSocketServer.handleConnection(socket);
}

void Server::rejectTls(QTcpSocket *socket, const QByteArray &response)
{
    m_tlsPending.remove(socket);
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

void Server::adoptWebSockets()
{
    while (m_webSocketServer.hasPendingConnections()) {
        QWebSocket *socket = m_webSocketServer.nextPendingConnection();
        if (!socket) {
            break;
        }
        const Phoenix::Serializer serializer
            = Phoenix::serializerForVsn(vsnOf(socket->requestUrl()))
                  .value_or(Phoenix::Serializer::V1);
        const QHostAddress client
            = m_forwardedAddresses.take(endpointKey(socket->peerAddress(), socket->peerPort()));
        const QHostAddress peer = normalized(socket->peerAddress());
        addConnection(std::make_unique<QtWebSocketTransport>(socket, m_config.maxFrameSize),
                      serializer, client.isNull() ? peer : client);
    }
}

void Server::addConnection(std::unique_ptr<WebSocketTransport> transport,
                           Phoenix::Serializer serializer, const QHostAddress &client)
{
    const quint64 id = m_nextConnectionId++;
    auto *connection = new Connection(std::move(transport), serializer, id, client,
                                      ServerContext {&m_config, m_sessions, &m_metrics}, this);
    m_connections.insert(connection);
    ++m_metrics.connectionsAccepted;
    connect(connection, &Connection::closed, this, [this](Connection *closed) {
        m_connections.remove(closed);
        Q_EMIT connectionClosed(closed->id());
        closed->deleteLater();
    });
    qCInfo(lcConnection).nospace().noquote()
        << "connection " << id << " opened from " << client.toString() << ", serializer "
        << (serializer == Phoenix::Serializer::V2 ? "2.0.0" : "1.0.0") << ", "
        << m_connections.size() << " open";
    Q_EMIT connectionOpened(id);
}

QByteArray Server::answerHttp(const HttpRequestHead &head, const QHostAddress &client)
{
    ++m_metrics.httpRequests;
    const QString path = head.url.path();
    qCDebug(lcHttp).noquote() << head.method << path << "from" << client.toString();
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
    return response;
}

QByteArray Server::checkUpgrade(const HttpRequestHead &head, const QHostAddress &client)
{
    const std::optional<QString> vsn = vsnOf(head.url);
    if (!Phoenix::serializerForVsn(vsn)) {
        ++m_metrics.connectionsRejected;
        qCWarning(lcConnection).noquote()
            << "upgrade from" << client.toString() << "rejected: unsupported vsn" << *vsn;
        return httpJsonError(403,
                             QStringLiteral("unsupported serializer version vsn=%1: use "
                                            "2.0.0 or 1.0.0")
                                 .arg(vsn->left(40)));
    }
    const QString origin = QString::fromUtf8(head.header("origin"));
    if (!m_config.allowedOrigins.isEmpty() && !origin.isEmpty()
        && !m_config.allowedOrigins.contains(origin)) {
        ++m_metrics.connectionsRejected;
        qCWarning(lcConnection).noquote() << "upgrade from" << client.toString()
                                          << "rejected: Origin" << origin << "is not allowed";
        return httpJsonError(
            403, QStringLiteral("Origin %1 is not allowed on this server").arg(origin.left(100)));
    }
    return QByteArray();
}

QHostAddress Server::clientAddress(const QHostAddress &socketPeer,
                                   const HttpRequestHead *head) const
{
    const QHostAddress peer = normalized(socketPeer);
    if (!head || !m_config.trustedProxies.contains(peer)) {
        return peer;
    }
    // The proxy appends the address it saw, so the last entry is the one it vouches for.
    const QList<QByteArray> forwarded = head->header("x-forwarded-for").split(',');
    const QHostAddress client(QString::fromLatin1(forwarded.last().trimmed()));
    return client.isNull() ? peer : normalized(client);
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
    if (m_acceptErrorsSinceLog > 1) {
        qCWarning(lcServer).noquote()
            << "accepting connections failed" << m_acceptErrorsSinceLog - 1
            << "more times since the last report";
    }
    m_acceptErrorsSinceLog = 0;
    for (auto it = m_plainPending.cbegin(); it != m_plainPending.cend(); ++it) {
        if (now - it.value() > requestHeadTimeout) {
            qCInfo(lcHttp).noquote()
                << "connection from" << it.key()->peerAddress().toString()
                << "sent no complete request head in" << requestHeadTimeout / 1000 << "s, closing";
            it.key()->abort(); // reported back through epoll, outside this loop
        }
    }
    for (auto it = m_tlsPending.begin(); it != m_tlsPending.end();) {
        if (now - it.value() > requestHeadTimeout) {
            QTcpSocket *socket = it.key();
            it = m_tlsPending.erase(it);
            socket->disconnect(this);
            socket->abort();
            socket->deleteLater();
        } else {
            ++it;
        }
    }
    if (m_forwardedAddresses.size() > m_connections.size() + 1000) {
        m_forwardedAddresses.clear(); // upgrades that failed after the head was read
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
            // A peer silent for the whole idle timeout is presumed gone and would not answer the
            // close either, so the connection drops now and its rider goes offline at once
            // instead of after the close timeout. A live peer still gets the close frame first.
            connection->abort();
        }
    }
}

} // namespace Omw
