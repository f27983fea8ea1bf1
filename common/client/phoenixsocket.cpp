#include "phoenixsocket.h"

#include "phoenixchannel.h"
#include "phoenixcodec.h"

#include <QRandomGenerator>
#include <QTimerEvent>
#include <QUrlQuery>
#include <QWebSocket>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcClientSocket, "omw.client.socket", QtInfoMsg)

namespace Omw::Phoenix {

namespace {

const QString vsnKey = QStringLiteral("vsn");
const QString vsnValue = QStringLiteral("2.0.0");
const QString websocketSuffix = QStringLiteral("/websocket");

// Describes a frame for debug logs without its payload, because join params and replies carry
// ride and dispatcher tokens.
QString describeFrame(const Message &message)
{
    return QStringLiteral("[%1, %2, %3, %4]")
        .arg(message.joinRef.isString() ? message.joinRef.toString() : QStringLiteral("null"),
             message.ref.isString() ? message.ref.toString() : QStringLiteral("null"),
             message.topic, message.event);
}

double globalRandom()
{
    return QRandomGenerator::global()->generateDouble();
}

} // namespace

Socket::Socket(const QUrl &endpoint, QObject *parent)
    : QObject(parent), m_endpoint(endpoint), m_randomSource(globalRandom)
{
}

Socket::~Socket()
{
    m_wantConnected = false;
    stopTimers();
    // Channels unregister themselves from m_channels while being deleted.
    const QList<Channel *> channels = m_channels;
    qDeleteAll(channels);
    if (m_webSocket) {
        disconnect(m_webSocket, nullptr, this, nullptr);
        m_webSocket->abort();
    }
}

QUrl Socket::websocketUrl() const
{
    QUrl url = m_endpoint;
    QString path = url.path();
    if (!path.endsWith(websocketSuffix)) {
        if (path.endsWith(QLatin1Char('/')))
            path.chop(1);
        path += websocketSuffix;
    }
    url.setPath(path);
    QUrlQuery query(url);
    query.removeAllQueryItems(vsnKey);
    query.addQueryItem(vsnKey, vsnValue);
    url.setQuery(query);
    return url;
}

void Socket::setHeartbeatInterval(int milliseconds)
{
    milliseconds = std::max(1, milliseconds);
    if (m_heartbeatInterval == milliseconds)
        return;
    m_heartbeatInterval = milliseconds;
    if (m_heartbeatTimer.isActive())
        m_heartbeatTimer.start(m_heartbeatInterval, this);
    emit heartbeatIntervalChanged();
}

void Socket::setHeartbeatTimeout(int milliseconds)
{
    milliseconds = std::max(1, milliseconds);
    if (m_heartbeatTimeout == milliseconds)
        return;
    m_heartbeatTimeout = milliseconds;
    emit heartbeatTimeoutChanged();
}

void Socket::setReconnectBaseDelay(int milliseconds)
{
    milliseconds = std::max(0, milliseconds);
    if (m_reconnectBaseDelay == milliseconds)
        return;
    m_reconnectBaseDelay = milliseconds;
    emit reconnectBaseDelayChanged();
}

void Socket::setReconnectMaxDelay(int milliseconds)
{
    milliseconds = std::max(0, milliseconds);
    if (m_reconnectMaxDelay == milliseconds)
        return;
    m_reconnectMaxDelay = milliseconds;
    emit reconnectMaxDelayChanged();
}

void Socket::setReconnectEnabled(bool enabled)
{
    if (m_reconnectEnabled == enabled)
        return;
    m_reconnectEnabled = enabled;
    if (!enabled && m_reconnectTimer.isActive()) {
        m_reconnectTimer.stop();
        m_wantConnected = false;
        setState(State::Disconnected);
    }
    emit reconnectEnabledChanged();
}

void Socket::setRandomSource(RandomSource source)
{
    m_randomSource = source ? std::move(source) : RandomSource(globalRandom);
}

int Socket::reconnectDelayCap(int attempt) const
{
    // Doubling stops at 2^30 so that the product cannot overflow before the clamp.
    const int doublings = std::clamp(attempt - 1, 0, 30);
    const qint64 cap = qint64(m_reconnectBaseDelay) << doublings;
    return int(std::min<qint64>(cap, m_reconnectMaxDelay));
}

int Socket::reconnectDelay(int attempt) const
{
    const int cap = reconnectDelayCap(attempt);
    const double random = std::clamp(m_randomSource(), 0.0, 1.0);
    // Full jitter: every integer delay in [0, cap] is equally likely.
    const auto delay = qint64(std::floor(random * (double(cap) + 1.0)));
    return int(std::clamp<qint64>(delay, 0, cap));
}

Channel *Socket::channel(const QString &topic, const QJsonObject &params)
{
    auto *channel = new Channel(this, topic, params);
    m_channels.append(channel);
    return channel;
}

void Socket::removeChannel(Channel *channel)
{
    m_channels.removeAll(channel);
}

int Socket::activeTimerCount() const
{
    int count = int(m_heartbeatTimer.isActive()) + int(m_heartbeatTimeoutTimer.isActive())
        + int(m_reconnectTimer.isActive());
    for (const Channel *channel : m_channels)
        count += channel->activeTimerCount();
    return count;
}

QString Socket::makeRef()
{
    return QString::number(++m_refCounter);
}

bool Socket::send(const Message &message)
{
    if (m_state != State::Connected || !m_webSocket)
        return false;
    const QByteArray frame = encode(message, Serializer::V2);
    qCDebug(lcClientSocket).noquote()
        << "send" << describeFrame(message) << frame.size() << "bytes";
    m_webSocket->sendTextMessage(QString::fromUtf8(frame));
    return true;
}

void Socket::connectToServer()
{
    const QString scheme = m_endpoint.scheme();
    if (!m_endpoint.isValid() || m_endpoint.host().isEmpty()
        || (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))) {
        setError(Error::InvalidEndpoint,
                 tr("Invalid server URL \"%1\": expected ws://HOST:PORT/socket or "
                    "wss://HOST:PORT/socket")
                     .arg(m_endpoint.toDisplayString()));
        qCWarning(lcClientSocket).noquote() << m_errorString;
        return;
    }
    m_wantConnected = true;
    if (m_state == State::Connected || m_state == State::Connecting)
        return;
    m_reconnectTimer.stop();
    openWebSocket();
}

void Socket::disconnectFromServer()
{
    const bool wasConnected = m_state == State::Connected;
    m_wantConnected = false;
    stopTimers();
    m_pendingHeartbeatRef.clear();
    m_reconnectAttempt = 0;
    if (m_state == State::Disconnected && !m_webSocket)
        return;
    qCInfo(lcClientSocket).noquote() << "disconnecting from" << m_endpoint.toDisplayString();
    setState(State::Disconnected);
    if (m_webSocket) {
        QWebSocket *webSocket = m_webSocket;
        m_webSocket = nullptr;
        disconnect(webSocket, nullptr, this, nullptr);
        webSocket->close();
        webSocket->deleteLater();
    }
    const QList<Channel *> channels = m_channels;
    for (Channel *channel : channels)
        channel->handleSocketDisconnected();
    if (wasConnected)
        emit disconnected();
}

void Socket::openWebSocket()
{
    if (m_webSocket) {
        disconnect(m_webSocket, nullptr, this, nullptr);
        m_webSocket->abort();
        m_webSocket->deleteLater();
    }
    m_webSocket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    connect(m_webSocket, &QWebSocket::connected, this, &Socket::handleConnected);
    connect(m_webSocket, &QWebSocket::disconnected, this, &Socket::handleDisconnected);
    connect(m_webSocket, &QWebSocket::textMessageReceived, this, &Socket::handleTextMessage);
    connect(m_webSocket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                if (!m_webSocket)
                    return;
                const Error error = m_state == State::Connecting ? Error::ConnectionFailed
                                                                 : Error::ConnectionLost;
                handleConnectionLoss(error, m_webSocket->errorString());
            });
    setState(State::Connecting);
    qCInfo(lcClientSocket).noquote() << "connecting to" << websocketUrl().toDisplayString()
                                     << "attempt" << m_reconnectAttempt + 1;
    // A server that accepts the TCP connection but never completes the handshake (frozen or
    // overloaded) would otherwise keep the socket connecting forever.
    m_heartbeatTimeoutTimer.start(m_heartbeatTimeout, this);
    m_webSocket->open(websocketUrl());
}

void Socket::handleConnected()
{
    qCInfo(lcClientSocket).noquote() << "connected to" << m_endpoint.toDisplayString();
    m_reconnectAttempt = 0;
    m_pendingHeartbeatRef.clear();
    m_heartbeatTimeoutTimer.stop();
    setState(State::Connected);
    m_heartbeatTimer.start(m_heartbeatInterval, this);
    emit connected();
    const QList<Channel *> channels = m_channels;
    for (Channel *channel : channels) {
        if (m_state != State::Connected)
            break;
        channel->handleSocketConnected();
    }
}

void Socket::handleDisconnected()
{
    if (!m_webSocket)
        return;
    const Error error
        = m_state == State::Connecting ? Error::ConnectionFailed : Error::ConnectionLost;
    QString reason = m_webSocket->errorString();
    if (m_webSocket->closeCode() != QWebSocketProtocol::CloseCodeNormal
        || !m_webSocket->closeReason().isEmpty()) {
        reason = tr("closed with code %1 %2")
                     .arg(int(m_webSocket->closeCode()))
                     .arg(m_webSocket->closeReason());
    } else if (m_state == State::Connected) {
        reason = tr("closed by the server");
    }
    handleConnectionLoss(error, reason.trimmed());
}

void Socket::handleConnectionLoss(Error error, const QString &errorString)
{
    if (m_state != State::Connecting && m_state != State::Connected)
        return;
    const bool wasConnected = m_state == State::Connected;
    m_heartbeatTimer.stop();
    m_heartbeatTimeoutTimer.stop();
    m_pendingHeartbeatRef.clear();
    if (m_webSocket) {
        QWebSocket *webSocket = m_webSocket;
        m_webSocket = nullptr;
        disconnect(webSocket, nullptr, this, nullptr);
        webSocket->abort();
        webSocket->deleteLater();
    }
    qCWarning(lcClientSocket).noquote()
        << "connection to" << m_endpoint.toDisplayString() << "failed:" << errorString;
    const bool reconnect = m_wantConnected && m_reconnectEnabled;
    if (!reconnect)
        m_wantConnected = false;
    setState(reconnect ? State::Reconnecting : State::Disconnected);
    const QList<Channel *> channels = m_channels;
    for (Channel *channel : channels)
        channel->handleSocketDisconnected();
    if (wasConnected)
        emit disconnected();
    setError(error, errorString);
    if (reconnect && m_state == State::Reconnecting && !m_reconnectTimer.isActive())
        scheduleReconnect();
}

void Socket::scheduleReconnect()
{
    ++m_reconnectAttempt;
    const int delay = reconnectDelay(m_reconnectAttempt);
    qCInfo(lcClientSocket).noquote() << "reconnecting to" << m_endpoint.toDisplayString() << "in"
                                     << delay << "ms, attempt" << m_reconnectAttempt;
    m_reconnectTimer.start(delay, this);
    emit reconnectScheduled(m_reconnectAttempt, delay);
}

void Socket::stopTimers()
{
    m_heartbeatTimer.stop();
    m_heartbeatTimeoutTimer.stop();
    m_reconnectTimer.stop();
}

void Socket::sendHeartbeat()
{
    if (!m_pendingHeartbeatRef.isEmpty())
        return; // the previous heartbeat is still waiting; its timeout decides
    const QString ref = makeRef();
    Message heartbeat {QJsonValue::Null, ref, phoenixTopic, Event::heartbeat, QJsonObject()};
    if (send(heartbeat)) {
        m_pendingHeartbeatRef = ref;
        m_heartbeatTimeoutTimer.start(m_heartbeatTimeout, this);
    }
}

void Socket::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_heartbeatTimer.timerId()) {
        sendHeartbeat();
    } else if (event->timerId() == m_heartbeatTimeoutTimer.timerId()) {
        m_heartbeatTimeoutTimer.stop();
        if (m_state == State::Connecting) {
            handleConnectionLoss(Error::ConnectionFailed,
                                 tr("the WebSocket handshake did not complete within %1 ms")
                                     .arg(m_heartbeatTimeout));
        } else {
            handleConnectionLoss(Error::HeartbeatTimedOut,
                                 tr("no heartbeat reply within %1 ms").arg(m_heartbeatTimeout));
        }
    } else if (event->timerId() == m_reconnectTimer.timerId()) {
        m_reconnectTimer.stop();
        if (m_wantConnected)
            openWebSocket();
    } else {
        QObject::timerEvent(event);
    }
}

void Socket::handleTextMessage(const QString &text)
{
    const DecodeResult result = decode(text.toUtf8(), Serializer::V2);
    if (!result.isValid()) {
        qCWarning(lcClientSocket).noquote()
            << "ignored an invalid frame from" << m_endpoint.toDisplayString() << ":"
            << result.errorString;
        return;
    }
    const Message &message = result.message;
    qCDebug(lcClientSocket).noquote()
        << "received" << describeFrame(message) << text.size() << "characters";
    if (message.topic == phoenixTopic && !m_pendingHeartbeatRef.isEmpty()
        && message.ref.toString() == m_pendingHeartbeatRef) {
        m_pendingHeartbeatRef.clear();
        m_heartbeatTimeoutTimer.stop();
    }
    emit messageReceived(message);
    const QList<Channel *> channels = m_channels;
    for (Channel *channel : channels) {
        // A handler may have deleted a channel or dropped the connection.
        if (m_state != State::Connected)
            break;
        if (!m_channels.contains(channel))
            continue;
        if (channel->topic() == message.topic)
            channel->handleMessage(message);
    }
}

void Socket::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void Socket::setError(Error error, const QString &errorString)
{
    m_error = error;
    const bool stringChanged = m_errorString != errorString;
    m_errorString = errorString;
    if (stringChanged)
        emit errorStringChanged();
    if (error != Error::NoError)
        emit errorOccurred(error);
}

} // namespace Omw::Phoenix
