#pragma once

#include "phoenixcodec.h"
#include "ratelimiter.h"
#include "websockettransport.h"

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QWebSocketProtocol>

#include <memory>
#include <vector>

namespace Omw {

class OutgoingFrame;
class Session;
class SessionManager;
struct Metrics;
struct ServerConfig;

// The parts of the server that a connection uses.
struct ServerContext
{
    const ServerConfig *config = nullptr;
    SessionManager *sessions = nullptr;
    Metrics *metrics = nullptr;
};

// One client's WebSocket: it decodes frames, replies to the events Phoenix reserves, routes the
// rest to its joined channels (onboarding, tracking, following, dispatch), and enforces the
// per-connection limits. Only the owning Server deletes it, after it has been closed.
class Connection : public QObject, private WebSocketTransport::Handler
{
    Q_OBJECT

public:
    // `peerAddress` is the client's address: the socket's peer, or the address a trusted reverse
    // proxy forwarded.
    Connection(std::unique_ptr<WebSocketTransport> transport, Phoenix::Serializer serializer,
               quint64 id, const QHostAddress &peerAddress, const ServerContext &context,
               QObject *parent);
    ~Connection() override;

    quint64 id() const { return m_id; }
    QHostAddress peerAddress() const { return m_peerAddress; }
    Phoenix::Serializer serializer() const { return m_serializer; }
    qint64 lastActivity() const { return m_lastActivity; } // monotonic milliseconds
    bool isClosing() const { return m_closing; }
    qint64 closingSince() const { return m_closingSince; } // monotonic milliseconds
    int channelCount() const { return int(m_channels.size()); }

    // Sends a broadcast. A follower whose send queue is over the limit is disconnected instead
    // (asynchronously: this never removes the connection from any list while the caller
    // iterates over one).
    void sendFrame(const OutgoingFrame &frame);
    // Closes the channel `topic` from the server's side with phx_close, for a ride that ended
    // while its rider was connected or was taken over by the holder of its token.
    void closeChannelByServer(const QString &topic);
    // Closes the WebSocket with `code`.
    void close(QWebSocketProtocol::CloseCode code, const QString &reason);
    // Drops the TCP connection at once, for a peer that does not complete a close.
    void abort();
    // Forgets every channel without running its leave logic, for a server that is being
    // destroyed together with its rides.
    void abandon();

Q_SIGNALS:
    // The socket is gone and every channel has run its leave logic.
    void closed(Omw::Connection *connection);

private:
    enum class Kind { Onboarding, Tracking, Following, Dispatch };
    struct Channel
    {
        QString topic;
        QJsonValue joinRef;
        Kind kind;
        QString slug; // tracking and following
        QPointer<Session> session; // tracking
    };

    void textMessageReceived(const QByteArray &utf8) override;
    void binaryMessageReceived() override;
    void controlFrameReceived() override;
    void transportClosed() override;
    void handleMessage(const Phoenix::Message &message);
    void handleJoin(const Phoenix::Message &message);
    void handleLeave(const Phoenix::Message &message);
    void handleChannelEvent(Channel &channel, const Phoenix::Message &message);
    void handleTrackingEvent(Channel &channel, const Phoenix::Message &message);
    void handleOnboardingEvent(const Phoenix::Message &message);

    // Joins: return the reply's response, or a refusal.
    bool joinOnboarding(const Phoenix::Message &message, QJsonValue *response);
    bool joinTracking(const Phoenix::Message &message, const QString &slug, QJsonValue *response);
    bool joinFollowing(const Phoenix::Message &message, const QString &slug, QJsonValue *response);
    bool joinDispatch(const Phoenix::Message &message, QJsonValue *response);

    // Runs the channel's leave logic: a rider leaving ends the ride when `announced`, and only
    // takes it offline when the connection dropped.
    void leaveChannel(const Channel &channel, bool announced);
    Channel *findChannel(const QString &topic);
    void removeChannel(const QString &topic);

    void send(const Phoenix::Message &message);
    void replyError(const Phoenix::Message &message, const QString &reason, const QString &text);
    void logRejection(const QString &what);

    std::unique_ptr<WebSocketTransport> m_transport;
    Phoenix::Serializer m_serializer;
    quint64 m_id;
    ServerContext m_context;
    QHostAddress m_peerAddress;
    std::vector<Channel> m_channels;
    TokenBucket m_messageBucket; // messages within the sustained rate and burst
    TokenBucket m_floodBucket; // messages over it; when this one empties too, the peer floods
    qint64 m_lastActivity = 0;
    qint64 m_closingSince = 0;
    qint64 m_lastRejectionLog = 0;
    int m_unloggedRejections = 0;
    bool m_closing = false;
    bool m_closed = false;
};

} // namespace Omw
