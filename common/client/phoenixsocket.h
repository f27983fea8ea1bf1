#pragma once

#include "phoenixmessage.h"

#include <QBasicTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <functional>

QT_BEGIN_NAMESPACE
class QWebSocket;
QT_END_NAMESPACE

Q_DECLARE_LOGGING_CATEGORY(lcClientSocket)

namespace Omw::Phoenix {

class Channel;
class Push;

// A Phoenix Channels client connection over one QWebSocket, with serializer V2.
//
// The socket sends a heartbeat every heartbeatInterval(). When no reply arrives within
// heartbeatTimeout(), it drops the connection. After any connection loss that the caller did
// not request, it reconnects after a delay drawn with full jitter, uniform in
// [0, min(reconnectMaxDelay, reconnectBaseDelay * 2^(attempt - 1))]. The jitter keeps the
// clients of a restarted server from all coming back at once. After each connection its
// channels rejoin.
//
// Every timer is a QBasicTimer (no QObject per timer), so hundreds of sockets in one process
// stay cheap; disconnectFromServer() stops all of them.
class Socket : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QUrl endpoint READ endpoint CONSTANT)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(Error error READ error NOTIFY errorOccurred)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(int heartbeatInterval READ heartbeatInterval WRITE setHeartbeatInterval NOTIFY
                   heartbeatIntervalChanged)
    Q_PROPERTY(int heartbeatTimeout READ heartbeatTimeout WRITE setHeartbeatTimeout NOTIFY
                   heartbeatTimeoutChanged)
    Q_PROPERTY(int reconnectBaseDelay READ reconnectBaseDelay WRITE setReconnectBaseDelay NOTIFY
                   reconnectBaseDelayChanged)
    Q_PROPERTY(int reconnectMaxDelay READ reconnectMaxDelay WRITE setReconnectMaxDelay NOTIFY
                   reconnectMaxDelayChanged)
    Q_PROPERTY(bool reconnectEnabled READ isReconnectEnabled WRITE setReconnectEnabled NOTIFY
                   reconnectEnabledChanged)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY reconnectScheduled)

public:
    enum class State {
        Disconnected, // not connected and not trying to be
        Connecting, // the WebSocket handshake is in progress
        Connected,
        Reconnecting, // connection lost; waiting for the next attempt
    };
    Q_ENUM(State)

    enum class Error {
        NoError,
        InvalidEndpoint, // the endpoint is not a ws:// or wss:// URL
        ConnectionFailed, // the WebSocket could not connect (refused, TLS, HTTP status, timeout)
        ConnectionLost, // the server closed the connection or the network dropped it
        HeartbeatTimedOut, // no heartbeat reply within heartbeatTimeout()
    };
    Q_ENUM(Error)

    // Default periods in milliseconds.
    static constexpr int defaultHeartbeatInterval = 30'000;
    static constexpr int defaultHeartbeatTimeout = 10'000;
    static constexpr int defaultReconnectBaseDelay = 1'000;
    static constexpr int defaultReconnectMaxDelay = 30'000;

    // `endpoint` is the socket URL as Phoenix clients are configured with it,
    // `ws[s]://host:port/socket`. Connecting appends `/websocket?vsn=2.0.0`.
    explicit Socket(const QUrl &endpoint, QObject *parent = nullptr);
    ~Socket() override;

    QUrl endpoint() const { return m_endpoint; }
    // The URL actually opened: the endpoint with `/websocket` and `vsn=2.0.0` appended, keeping
    // its other query items.
    QUrl websocketUrl() const;

    State state() const { return m_state; }
    bool isConnected() const { return m_state == State::Connected; }
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }

    int heartbeatInterval() const { return m_heartbeatInterval; } // milliseconds
    void setHeartbeatInterval(int milliseconds);
    // Milliseconds to wait for a heartbeat reply, and for the WebSocket handshake to complete.
    int heartbeatTimeout() const { return m_heartbeatTimeout; }
    void setHeartbeatTimeout(int milliseconds);
    int reconnectBaseDelay() const { return m_reconnectBaseDelay; } // milliseconds
    void setReconnectBaseDelay(int milliseconds);
    int reconnectMaxDelay() const { return m_reconnectMaxDelay; } // milliseconds
    void setReconnectMaxDelay(int milliseconds);
    bool isReconnectEnabled() const { return m_reconnectEnabled; }
    void setReconnectEnabled(bool enabled);

    // Number of consecutive failed or lost connections since the last successful one.
    int reconnectAttempt() const { return m_reconnectAttempt; }

    // A source of uniform random numbers in [0, 1) for the reconnect jitter. The default is
    // QRandomGenerator::global(), and tests inject a fixed or seeded source.
    using RandomSource = std::function<double()>;
    void setRandomSource(RandomSource source);
    // The delay before reconnect attempt `attempt` (1 for the first), in milliseconds, drawn
    // from the random source: uniform in [0, reconnectDelayCap(attempt)].
    int reconnectDelay(int attempt) const;
    // min(reconnectMaxDelay, reconnectBaseDelay * 2^(attempt - 1)), in milliseconds.
    int reconnectDelayCap(int attempt) const;

    // Creates a channel for `topic`, owned by this socket, with `params` sent on every join.
    // Join it with Channel::join(). Several channels may share a topic, as in Phoenix.
    Channel *channel(const QString &topic, const QJsonObject &params = {});
    QList<Channel *> channels() const { return m_channels; }

    // Number of running timers of this socket, its channels and their pushes: heartbeat,
    // heartbeat timeout, reconnect, join timeout, rejoin and push timeouts. Zero after
    // disconnectFromServer().
    int activeTimerCount() const;

    // Sends one frame now. Returns false when not connected. Channels and pushes use it; other
    // callers normally need only Channel::push().
    bool send(const Message &message);
    // A new ref, unique on this socket: decimal strings counting up from "1".
    QString makeRef();

public Q_SLOTS:
    // Opens the connection (and keeps reopening it until disconnectFromServer()).
    void connectToServer();
    // Closes the connection and stops every timer: no heartbeat and no reconnect afterwards.
    // Channels stay in the socket and rejoin on the next connectToServer().
    void disconnectFromServer();

Q_SIGNALS:
    void stateChanged(Omw::Phoenix::Socket::State state);
    void connected();
    void disconnected();
    void errorOccurred(Omw::Phoenix::Socket::Error error);
    void errorStringChanged();
    // A reconnect attempt `attempt` will start in `delay` milliseconds.
    void reconnectScheduled(int attempt, int delay);
    // Every decoded frame from the server, before channels see it.
    void messageReceived(const Omw::Phoenix::Message &message);
    void heartbeatIntervalChanged();
    void heartbeatTimeoutChanged();
    void reconnectBaseDelayChanged();
    void reconnectMaxDelayChanged();
    void reconnectEnabledChanged();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    friend class Channel;

    void setState(State state);
    void setError(Error error, const QString &errorString);
    void openWebSocket();
    void handleConnected();
    void handleDisconnected();
    void handleTextMessage(const QString &text);
    void handleConnectionLoss(Error error, const QString &errorString);
    void scheduleReconnect();
    void stopTimers();
    void sendHeartbeat();
    void removeChannel(Channel *channel);

    QUrl m_endpoint;
    QWebSocket *m_webSocket = nullptr;
    QList<Channel *> m_channels;
    State m_state = State::Disconnected;
    Error m_error = Error::NoError;
    QString m_errorString;
    bool m_wantConnected = false;

    int m_heartbeatInterval = defaultHeartbeatInterval;
    int m_heartbeatTimeout = defaultHeartbeatTimeout;
    int m_reconnectBaseDelay = defaultReconnectBaseDelay;
    int m_reconnectMaxDelay = defaultReconnectMaxDelay;
    bool m_reconnectEnabled = true;
    int m_reconnectAttempt = 0;
    RandomSource m_randomSource;

    QBasicTimer m_heartbeatTimer;
    QBasicTimer m_heartbeatTimeoutTimer;
    QBasicTimer m_reconnectTimer;
    QString m_pendingHeartbeatRef;
    quint64 m_refCounter = 0;
};

} // namespace Omw::Phoenix
