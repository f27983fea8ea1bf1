#include "connection.h"

#include "logging.h"
#include "metrics.h"
#include "outgoingframe.h"
#include "serverconfig.h"
#include "sessionmanager.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QJsonObject>
#include <QRegularExpression>

namespace Omw {

using Phoenix::Message;

namespace {

const QString onboardingTopic = QStringLiteral("onboarding");
const QString dispatchTopic = QStringLiteral("dispatch");
const QString trackingPrefix = QStringLiteral("tracking:");
const QString followingPrefix = QStringLiteral("following:");
const QString newCoordsEvent = QStringLiteral("NEW_COORDS");

qint64 monotonicNow()
{
    return QDeadlineTimer::current().deadline();
}

// Ride names: the original clients use BIP-39 words joined with '-', and accept any name with
// letters, digits, '_' and '-'.
bool isValidSlug(const QString &slug)
{
    // \z, not $: a $ also matches before a final newline, which let "brave-otter\n" through.
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\\z"));
    return pattern.match(slug).hasMatch();
}

Message closeMessage(const QString &topic, const QJsonValue &joinRef)
{
    return Message {joinRef, joinRef, topic, Phoenix::Event::close, QJsonObject()};
}

} // namespace

Connection::Connection(std::unique_ptr<WebSocketTransport> transport,
                       Phoenix::Serializer serializer, quint64 id, const QHostAddress &peerAddress,
                       const ServerContext &context, QObject *parent)
    : QObject(parent),
      m_transport(std::move(transport)),
      m_serializer(serializer),
      m_id(id),
      m_context(context),
      m_peerAddress(peerAddress),
      m_lastActivity(monotonicNow())
{
    m_transport->setHandler(this);
    ++m_context.metrics->connections;
}

Connection::~Connection()
{
    if (!m_closed) {
        transportClosed();
    }
    m_transport->setHandler(nullptr);
}

void Connection::binaryMessageReceived()
{
    qCWarning(lcConnection).noquote()
        << "connection" << m_id << "sent a binary frame; Omw speaks text frames only, closing";
    close(QWebSocketProtocol::CloseCodeDatatypeNotSupported,
          QStringLiteral("binary frames are not supported: send JSON text frames"));
}

void Connection::controlFrameReceived()
{
    m_lastActivity = monotonicNow();
}

void Connection::textMessageReceived(const QByteArray &text)
{
    if (m_closing) {
        return;
    }
    const qint64 now = monotonicNow();
    m_lastActivity = now;
    ++m_context.metrics->framesReceived;

    const ServerConfig &config = *m_context.config;
    const bool withinRate = m_messageBucket.tryTake(now, config.messageRate, config.messageBurst);

    const Phoenix::DecodeResult decoded = Phoenix::decode(text, m_serializer);
    if (!withinRate) {
        ++m_context.metrics->messagesRateLimited;
        if (!m_floodBucket.tryTake(now, config.messageRate, config.messageBurst)) {
            qCWarning(lcConnection).nospace().noquote()
                << "connection " << m_id << " from " << m_peerAddress.toString()
                << " keeps sending over twice its message rate of " << config.messageRate
                << "/s, closing";
            close(QWebSocketProtocol::CloseCodePolicyViolated,
                  QStringLiteral("message rate exceeded"));
            return;
        }
        if (decoded.isValid() && decoded.message.event == newCoordsEvent
            && decoded.message.topic.startsWith(trackingPrefix)
            && findChannel(decoded.message.topic)) {
            // A dropped point counts with the other rejected points, under its reply code.
            ++m_context.metrics->positionsRejected[Rejection::RateLimited];
        }
        if (decoded.canReply) {
            replyError(decoded.message, QStringLiteral("rate_limited"),
                       QStringLiteral("more than %1 messages per second on this connection; "
                                      "this message was dropped: slow down")
                           .arg(config.messageRate));
        } else {
            logRejection(QStringLiteral("a message over the rate limit"));
        }
        return;
    }

    if (!decoded.isValid()) {
        if (decoded.error == Phoenix::DecodeResult::InvalidEnvelope && decoded.canReply) {
            replyError(decoded.message, QStringLiteral("invalid_envelope"), decoded.errorString);
            return;
        }
        qCWarning(lcConnection).nospace().noquote()
            << "connection " << m_id << " sent a frame that cannot be decoded ("
            << decoded.errorString << "), closing with 1007";
        close(QWebSocketProtocol::CloseCodeWrongDatatype, decoded.errorString.left(120));
        return;
    }
    handleMessage(decoded.message);
}

void Connection::handleMessage(const Message &message)
{
    if (message.topic == Phoenix::phoenixTopic && message.event == Phoenix::Event::heartbeat) {
        ++m_context.metrics->heartbeats;
        Message heartbeat = message;
        heartbeat.joinRef = QJsonValue::Null;
        send(heartbeat.replyOk(QJsonObject()));
        return;
    }
    if (message.event == Phoenix::Event::join) {
        handleJoin(message);
        return;
    }
    if (message.event == Phoenix::Event::leave) {
        handleLeave(message);
        return;
    }
    Channel *channel = findChannel(message.topic);
    if (!channel) {
        logRejection(QStringLiteral("%1 on %2, a topic it has not joined")
                         .arg(message.event.left(60), message.topic.left(80)));
        Message unmatched = message;
        unmatched.joinRef = QJsonValue::Null;
        send(unmatched.replyError(
            QJsonObject {{QStringLiteral("reason"), QStringLiteral("unmatched topic")}}));
        return;
    }
    handleChannelEvent(*channel, message);
}

void Connection::handleJoin(const Message &message)
{
    const QString &topic = message.topic;
    Kind kind;
    QString slug;
    if (topic == onboardingTopic) {
        kind = Kind::Onboarding;
    } else if (topic == dispatchTopic) {
        kind = Kind::Dispatch;
    } else if (topic.startsWith(trackingPrefix)) {
        kind = Kind::Tracking;
        slug = topic.mid(trackingPrefix.size());
    } else if (topic.startsWith(followingPrefix)) {
        kind = Kind::Following;
        slug = topic.mid(followingPrefix.size());
    } else {
        logRejection(
            QStringLiteral("a join of %1, a topic no channel serves").arg(message.topic.left(80)));
        Message unmatched = message;
        unmatched.joinRef = QJsonValue::Null;
        send(unmatched.replyError(
            QJsonObject {{QStringLiteral("reason"), QStringLiteral("unmatched topic")}}));
        return;
    }

    Channel *existing = findChannel(topic);
    if (!existing && int(m_channels.size()) >= m_context.config->maxChannels) {
        logRejection(QStringLiteral("a join of %1 over the maximum of %2 channels")
                         .arg(topic.left(80))
                         .arg(m_context.config->maxChannels));
        send(message.replyError(
            QJsonObject {{QStringLiteral("reason"), QStringLiteral("too many channels joined")},
                         {QStringLiteral("message"),
                          QStringLiteral("at most %1 channels per connection: leave one first")
                              .arg(m_context.config->maxChannels)}}));
        return;
    }
    if ((kind == Kind::Tracking || kind == Kind::Following) && !isValidSlug(slug)) {
        replyError(message, QStringLiteral("invalid_slug"),
                   QStringLiteral("ride name \"%1\" is invalid: expected 1 to 64 letters, digits, "
                                  "'_' or '-', not starting with '-', such as \"brave-otter\"")
                       .arg(slug.left(80)));
        return;
    }

    QJsonValue response;
    bool joined = false;
    switch (kind) {
    case Kind::Onboarding:
        joined = joinOnboarding(message, &response);
        break;
    case Kind::Tracking:
        joined = joinTracking(message, slug, &response);
        break;
    case Kind::Following:
        joined = joinFollowing(message, slug, &response);
        break;
    case Kind::Dispatch:
        joined = joinDispatch(message, &response);
        break;
    }
    if (!joined) {
        logRejection(QStringLiteral("a join of %1 that was rejected (%2)")
                         .arg(topic.left(80),
                              response.toObject().value(QStringLiteral("reason")).toString()));
        send(message.replyError(response));
        return;
    }

    send(message.replyOk(response));
    // A second join of a joined topic replaces the first. Its reply comes first, then the old
    // channel is closed, and what the channel carries (the ride, the follower) is kept.
    existing = findChannel(topic);
    if (existing) {
        send(closeMessage(topic, existing->joinRef));
        existing->joinRef = message.joinRef;
        return;
    }
    Channel channel {topic, message.joinRef, kind, slug, {}};
    if (kind == Kind::Tracking) {
        channel.session = m_context.sessions->session(slug);
    }
    m_channels.push_back(std::move(channel));
    ++m_context.metrics->channels[size_t(kind)];
    qCDebug(lcConnection).noquote() << "connection" << m_id << "joined" << topic;
}

void Connection::handleLeave(const Message &message)
{
    Channel *channel = findChannel(message.topic);
    if (!channel) {
        send(message.replyOk(QJsonObject()));
        return;
    }
    const Channel left = *channel;
    removeChannel(message.topic);
    send(message.replyOk(QJsonObject()));
    send(closeMessage(left.topic, left.joinRef));
    leaveChannel(left, true);
    qCDebug(lcConnection).noquote() << "connection" << m_id << "left" << left.topic;
}

bool Connection::joinOnboarding(const Message &, QJsonValue *response)
{
    *response = QJsonObject();
    return true;
}

bool Connection::joinTracking(const Message &message, const QString &slug, QJsonValue *response)
{
    const QJsonValue token = message.payload.toObject().value(QStringLiteral("token"));
    if (!token.isUndefined() && !token.isNull() && !token.isString()) {
        *response
            = Refusal {QStringLiteral("invalid_payload"), QStringLiteral("token must be a string")}
                  .toJson();
        return false;
    }
    Refusal refusal;
    Session *session = m_context.sessions->claimRide(slug, token.toString(), this, &refusal);
    if (!session) {
        *response = refusal.toJson();
        return false;
    }
    *response = QJsonObject {{QStringLiteral("slug"), slug},
                             {QStringLiteral("state"), session->stateName()}};
    return true;
}

bool Connection::joinFollowing(const Message &message, const QString &slug, QJsonValue *response)
{
    if (!findChannel(message.topic)) {
        const Refusal refusal = m_context.sessions->addFollower(slug, this);
        if (!refusal.isNull()) {
            *response = refusal.toJson();
            return false;
        }
    }
    *response = m_context.sessions->followerSnapshot(slug);
    return true;
}

bool Connection::joinDispatch(const Message &message, QJsonValue *response)
{
    SessionManager *sessions = m_context.sessions;
    if (!sessions->isDispatchEnabled()) {
        *response = Refusal {QStringLiteral("unauthorized"),
                             QStringLiteral("dispatch is disabled on this server: it has no "
                                            "dispatcher token (--dispatch-token-file)")}
                        .toJson();
        return false;
    }
    const QJsonValue token = message.payload.toObject().value(QStringLiteral("token"));
    if (!token.isString() || !sessions->checkDispatchToken(token.toString())) {
        *response = Refusal {QStringLiteral("unauthorized"),
                             QStringLiteral("join dispatch with the params {\"token\": ...} "
                                            "holding the server's dispatcher token")}
                        .toJson();
        return false;
    }
    if (!findChannel(message.topic)) {
        sessions->addDispatcher(this);
    }
    *response = sessions->dispatchSnapshot();
    return true;
}

void Connection::handleChannelEvent(Channel &channel, const Message &message)
{
    switch (channel.kind) {
    case Kind::Onboarding:
        handleOnboardingEvent(message);
        return;
    case Kind::Tracking:
        handleTrackingEvent(channel, message);
        return;
    case Kind::Following:
    case Kind::Dispatch:
        break;
    }
    replyError(message, QStringLiteral("unknown_event"),
               QStringLiteral("event \"%1\" is not handled on %2: this channel only receives")
                   .arg(message.event.left(60), message.topic));
}

void Connection::handleOnboardingEvent(const Message &message)
{
    SessionManager *sessions = m_context.sessions;
    Refusal refusal;
    if (message.event == QLatin1String("GENERATE_NEW_SESSION_NAME")) {
        const QString name = sessions->reserveName(m_peerAddress, &refusal);
        if (name.isEmpty()) {
            send(message.replyError(refusal.toJson()));
            return;
        }
        // The original clients read this response as a bare string.
        send(message.replyOk(name));
        return;
    }
    if (message.event == QLatin1String("CREATE_SESSION")) {
        const auto [slug, token] = sessions->createRide(m_peerAddress, &refusal);
        if (slug.isEmpty()) {
            send(message.replyError(refusal.toJson()));
            return;
        }
        send(message.replyOk(
            QJsonObject {{QStringLiteral("slug"), slug}, {QStringLiteral("token"), token}}));
        return;
    }
    replyError(message, QStringLiteral("unknown_event"),
               QStringLiteral("event \"%1\" is not handled on onboarding: send "
                              "GENERATE_NEW_SESSION_NAME or CREATE_SESSION")
                   .arg(message.event.left(60)));
}

void Connection::handleTrackingEvent(Channel &channel, const Message &message)
{
    if (message.event != newCoordsEvent) {
        replyError(message, QStringLiteral("unknown_event"),
                   QStringLiteral("event \"%1\" is not handled on %2: send NEW_COORDS")
                       .arg(message.event.left(60), message.topic));
        return;
    }
    Session *session = channel.session;
    if (!session) {
        replyError(message, QStringLiteral("ride_ended"),
                   QStringLiteral("ride %1 has ended: join the topic again to start a new one")
                       .arg(channel.slug));
        return;
    }
    const PositionValidator validator(
        PositionValidator::Options {m_context.config->allowNoFix, m_context.config->maxFutureSkew});
    const ValidationResult result
        = validator.validate(message.payload, QDateTime::currentMSecsSinceEpoch());
    Rejection rejection = result.rejection;
    QString text = result.message;
    if (result.isValid()) {
        rejection = m_context.sessions->addPosition(session, result.position);
        if (rejection == Rejection::OutOfOrder) {
            text = QStringLiteral("timestamp %1 is older than the ride's current position at %2: "
                                  "send points in time order")
                       .arg(result.position.timestamp)
                       .arg(session->position().timestamp);
        }
    }
    if (rejection == Rejection::None) {
        send(message.replyOk(QJsonObject()));
        return;
    }
    ++m_context.metrics->positionsRejected[rejection];
    replyError(message, rejectionCode(rejection), text);
}

void Connection::leaveChannel(const Channel &channel, bool announced)
{
    --m_context.metrics->channels[size_t(channel.kind)];
    SessionManager *sessions = m_context.sessions;
    switch (channel.kind) {
    case Kind::Onboarding:
        break;
    case Kind::Tracking:
        if (channel.session) {
            if (announced) {
                sessions->riderLeft(channel.session, this);
            } else {
                sessions->riderDropped(channel.session, this);
            }
        }
        break;
    case Kind::Following:
        sessions->removeFollower(channel.slug, this);
        break;
    case Kind::Dispatch:
        sessions->removeDispatcher(this);
        break;
    }
}

void Connection::closeChannelByServer(const QString &topic)
{
    Channel *channel = findChannel(topic);
    if (!channel) {
        return;
    }
    qCInfo(lcConnection).noquote()
        << "connection" << m_id << "channel" << topic << "closed by the server";
    send(closeMessage(topic, channel->joinRef));
    --m_context.metrics->channels[size_t(channel->kind)];
    removeChannel(topic);
}

Connection::Channel *Connection::findChannel(const QString &topic)
{
    for (Channel &channel : m_channels) {
        if (channel.topic == topic) {
            return &channel;
        }
    }
    return nullptr;
}

void Connection::removeChannel(const QString &topic)
{
    for (auto it = m_channels.begin(); it != m_channels.end(); ++it) {
        if (it->topic == topic) {
            m_channels.erase(it);
            return;
        }
    }
}

void Connection::sendFrame(const OutgoingFrame &frame)
{
    if (m_closing) {
        return;
    }
    if (m_transport->bytesToWrite() > m_context.config->sendQueueLimit) {
        ++m_context.metrics->slowFollowersDisconnected;
        qCWarning(lcConnection).nospace().noquote()
            << "connection " << m_id << " from " << m_peerAddress.toString() << " is "
            << m_transport->bytesToWrite() << " bytes behind (limit "
            << m_context.config->sendQueueLimit << "), disconnecting it";
        close(QWebSocketProtocol::CloseCodePolicyViolated,
              QStringLiteral("too far behind: read faster"));
        return;
    }
    m_transport->sendFrame(frame, m_serializer);
    ++m_context.metrics->framesSent;
}

void Connection::send(const Message &message)
{
    if (m_closing) {
        return;
    }
    m_transport->sendText(Phoenix::encode(message, m_serializer));
    ++m_context.metrics->framesSent;
}

void Connection::replyError(const Message &message, const QString &reason, const QString &text)
{
    logRejection(QStringLiteral("%1 on %2 rejected (%3: %4)")
                     .arg(message.event.left(60), message.topic.left(80), reason, text));
    send(message.replyError(
        QJsonObject {{QStringLiteral("reason"), reason}, {QStringLiteral("message"), text}}));
}

void Connection::logRejection(const QString &what)
{
    // One line a second at most per connection, so a flood cannot flood the log too.
    const qint64 now = monotonicNow();
    if (m_lastRejectionLog != 0 && now - m_lastRejectionLog < 1000) {
        ++m_unloggedRejections;
        return;
    }
    qCWarning(lcConnection).nospace().noquote()
        << "connection " << m_id << " from " << m_peerAddress.toString() << " sent "
        << qPrintable(what)
        << (m_unloggedRejections > 0
                ? qPrintable(QStringLiteral(" (and %1 more rejected frames in the "
                                            "last second, not logged)")
                                 .arg(m_unloggedRejections))
                : "");
    m_lastRejectionLog = now;
    m_unloggedRejections = 0;
}

void Connection::close(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_closing) {
        return;
    }
    m_closing = true;
    m_closingSince = monotonicNow();
    m_transport->close(code, reason);
}

void Connection::abort()
{
    m_transport->abort();
}

void Connection::abandon()
{
    m_channels.clear();
    m_closing = true;
    m_closed = true;
}

void Connection::transportClosed()
{
    if (m_closed) {
        return;
    }
    m_closed = true;
    m_closing = true;
    const int code = m_transport->closeCode();
    ++m_context.metrics->closesByCode[code];
    --m_context.metrics->connections;
    const std::vector<Channel> channels = std::move(m_channels);
    m_channels.clear();
    for (const Channel &channel : channels) {
        leaveChannel(channel, false);
    }
    qCInfo(lcConnection).nospace().noquote()
        << "connection " << m_id << " from " << m_peerAddress.toString() << " closed, code " << code
        << (m_transport->closeReason().isEmpty()
                ? QString()
                : QStringLiteral(" (") + m_transport->closeReason() + QLatin1Char(')'));
    Q_EMIT closed(this);
}

} // namespace Omw
