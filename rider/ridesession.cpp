#include "ridesession.h"

#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"
#include "track.h"

#include <QJsonValue>
#include <QTimer>

namespace Omw::Rider {

namespace {

const QString onboardingTopic = QStringLiteral("onboarding");
const QString trackingPrefix = QStringLiteral("tracking:");
const QString followingPrefix = QStringLiteral("following:");
const QString createSessionEvent = QStringLiteral("CREATE_SESSION");
const QString generateNameEvent = QStringLiteral("GENERATE_NEW_SESSION_NAME");
const QString newCoordsEvent = QStringLiteral("NEW_COORDS");
const QString okStatus = QStringLiteral("ok");

QJsonValue numberOrNull(double value)
{
    return std::isnan(value) ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

QString reasonOf(const QJsonValue &response)
{
    const QString reason = response.toObject().value(QLatin1String("reason")).toString();
    return reason.isEmpty() ? QStringLiteral("unknown") : reason;
}

// The reason code and, when the server sent one, its explanation, which says what to do.
QString describeRefusal(const QJsonValue &response)
{
    const QString message = response.toObject().value(QLatin1String("message")).toString();
    return message.isEmpty() ? reasonOf(response)
                             : reasonOf(response) + QStringLiteral(": ") + message;
}

} // namespace

QJsonObject newCoordsPayload(const Position &position)
{
    QJsonObject payload {
        {QStringLiteral("latitude"), position.latitude},
        {QStringLiteral("longitude"), position.longitude},
        {QStringLiteral("speed"), numberOrNull(position.speed)},
        {QStringLiteral("heading"), numberOrNull(position.heading)},
    };
    if (position.timestamp > 0)
        payload.insert(QStringLiteral("timestamp"), double(position.timestamp));
    if (position.hasAccuracy())
        payload.insert(QStringLiteral("accuracy"), position.accuracy);
    if (position.hasAltitude())
        payload.insert(QStringLiteral("altitude"), position.altitude);
    return payload;
}

RideSession::RideSession(const Options &options, QObject *parent)
    : QObject(parent),
      m_options(options),
      m_socket(new Phoenix::Socket(options.server, this)),
      m_slug(options.slug),
      m_token(options.token)
{
    connect(m_socket, &Phoenix::Socket::errorOccurred, this, [this](Phoenix::Socket::Error error) {
        if (error == Phoenix::Socket::Error::InvalidEndpoint) {
            fail(m_socket->errorString());
            return;
        }
        if (m_finished)
            return;
        if (m_trackingJoins == 0 && !m_reportedConnectFailure) {
            m_reportedConnectFailure = true;
            emit warningPrinted(
                tr("cannot connect to %1: %2; retrying")
                    .arg(m_options.server.toDisplayString(), m_socket->errorString()));
        } else if (error != Phoenix::Socket::Error::ConnectionFailed) {
            emit warningPrinted(tr("connection lost (%1); reconnecting, fixes until then are not "
                                   "sent")
                                    .arg(m_socket->errorString()));
        }
    });
}

RideSession::~RideSession() = default;

bool RideSession::isRiding() const
{
    return m_tracking && m_tracking->isJoined();
}

QStringList RideSession::followInstructions() const
{
    return {
        tr("Ride: %1").arg(m_slug),
        tr("Follow it with:  omw-console --follow %1").arg(m_slug),
        tr("or join the Phoenix topic %1%2 on %3")
            .arg(followingPrefix, m_slug, m_options.server.toDisplayString()),
    };
}

void RideSession::start()
{
    qCInfo(lcRider).noquote() << "starting ride session on" << m_options.server.toDisplayString()
                              << (m_slug.isEmpty() ? QStringLiteral("(new ride)") : m_slug);
    m_socket->connectToServer();
    if (m_finished)
        return;
    if (m_slug.isEmpty())
        onboard();
    else
        joinTracking();
}

void RideSession::onboard()
{
    m_onboarding = m_socket->channel(onboardingTopic);
    connect(m_onboarding, &Phoenix::Channel::joinRejected, this,
            [this](const QJsonValue &response) {
                fail(tr("the server rejected the join of %1 (%2)")
                         .arg(onboardingTopic, describeRefusal(response)));
            });
    connect(m_onboarding, &Phoenix::Channel::joined, this, [this] {
        if (!m_slug.isEmpty())
            return; // a rejoin after a reconnect while the ride is being created
        Phoenix::Push *push = m_onboarding->push(createSessionEvent, {}, m_options.pushTimeout);
        connect(
            push, &Phoenix::Push::replied, this,
            [this](const QString &status, const QJsonValue &response) {
                const QJsonObject session = response.toObject();
                const QString slug = session.value(QLatin1String("slug")).toString();
                const QString token = session.value(QLatin1String("token")).toString();
                if (status == okStatus && !slug.isEmpty() && !token.isEmpty()) {
                    m_slug = slug;
                    m_token = token;
                    m_onboarding->leave();
                    joinTracking();
                } else if (reasonOf(response) == QLatin1String("unknown_event")) {
                    // A server without ride ownership: fall back to the original API.
                    requestSessionName();
                } else {
                    fail(
                        tr("the server did not create a ride (%1)").arg(describeRefusal(response)));
                }
            });
        connect(push, &Phoenix::Push::timedOut, this, [this] {
            fail(tr("the server did not answer %1 within %2 ms")
                     .arg(createSessionEvent)
                     .arg(m_options.pushTimeout));
        });
        connect(push, &Phoenix::Push::failed, this, [this, push] {
            qCWarning(lcRider).noquote() << createSessionEvent << "failed:" << push->errorString();
            // The onboarding channel rejoins after the reconnect and sends CREATE_SESSION again.
        });
    });
    m_onboarding->join();
}

void RideSession::requestSessionName()
{
    emit warningPrinted(
        tr("the server does not support %1; the ride has no owner token").arg(createSessionEvent));
    Phoenix::Push *push = m_onboarding->push(generateNameEvent, {}, m_options.pushTimeout);
    connect(push, &Phoenix::Push::replied, this,
            [this](const QString &status, const QJsonValue &response) {
                if (status != okStatus || !response.isString() || response.toString().isEmpty()) {
                    fail(
                        tr("the server did not generate a ride name (%1)").arg(reasonOf(response)));
                    return;
                }
                m_slug = response.toString();
                m_onboarding->leave();
                joinTracking();
            });
    connect(push, &Phoenix::Push::timedOut, this, [this] {
        fail(tr("the server did not answer %1 within %2 ms")
                 .arg(generateNameEvent)
                 .arg(m_options.pushTimeout));
    });
}

void RideSession::joinTracking()
{
    QJsonObject params;
    if (!m_token.isEmpty())
        params.insert(QStringLiteral("token"), m_token);
    m_tracking = m_socket->channel(trackingPrefix + m_slug, params);
    connect(m_tracking, &Phoenix::Channel::joined, this, &RideSession::handleTrackingJoined);
    connect(m_tracking, &Phoenix::Channel::joinRejected, this,
            &RideSession::handleTrackingRejected);
    m_tracking->join();
}

void RideSession::handleTrackingJoined()
{
    ++m_trackingJoins;
    m_reportedNotJoined = false;
    m_reportedInUse = false;
    const QJsonObject reply = m_tracking->joinResponse().toObject();
    qCInfo(lcRider).noquote() << "joined" << m_tracking->topic() << "join_ref"
                              << m_tracking->joinRef() << "state"
                              << reply.value(QLatin1String("state")).toString();
    if (m_trackingJoins == 1) {
        for (const QString &line : followInstructions())
            emit messagePrinted(line);
        emit ready();
    } else {
        emit warningPrinted(tr("reconnected; the ride %1 goes on").arg(m_slug));
    }
}

void RideSession::handleTrackingRejected(const QJsonValue &response)
{
    const QString reason = reasonOf(response);
    if (reason == QLatin1String("session_in_use")) {
        // After a drop, the server may still hold the previous connection for a moment.
        if (!m_reportedInUse) {
            m_reportedInUse = true;
            emit warningPrinted(
                tr("the ride %1 is in use by another connection; retrying").arg(m_slug));
        }
        QTimer::singleShot(m_options.rejoinDelay, this, [this] {
            if (m_tracking && !m_finishing
                && m_tracking->state() == Phoenix::Channel::State::Errored)
                m_tracking->join();
        });
        return;
    }
    fail(tr("the server rejected the join of %1%2 (%3)")
             .arg(trackingPrefix, m_slug, describeRefusal(response)));
}

void RideSession::publish(const Position &position)
{
    if (m_finished || m_leaving)
        return;
    ++m_statistics.published;
    if (!isRiding()) {
        ++m_statistics.notSent;
        if (!m_reportedNotJoined && m_trackingJoins > 0) {
            m_reportedNotJoined = true;
            qCInfo(lcRider) << "not joined; fixes are skipped until the channel is rejoined";
        }
        return;
    }
    Phoenix::Push *push
        = m_tracking->push(newCoordsEvent, newCoordsPayload(position), m_options.pushTimeout,
                           Phoenix::Channel::QueueMode::FailUnlessJoined);
    ++m_statistics.sent;
    ++m_repliesPending;
    connect(push, &Phoenix::Push::replied, this, &RideSession::handleReply);
    connect(push, &Phoenix::Push::timedOut, this, [this] {
        ++m_statistics.timedOut;
        if (!m_reportedTimeout) {
            m_reportedTimeout = true;
            emit warningPrinted(tr("the server did not answer a %1 within %2 ms")
                                    .arg(newCoordsEvent)
                                    .arg(m_options.pushTimeout));
        }
        replyDone();
    });
    connect(push, &Phoenix::Push::failed, this, [this] {
        // Sent, but the connection dropped before the reply: the server may or may not have
        // accepted it, so it does not count as accepted.
        --m_statistics.sent;
        ++m_statistics.notSent;
        replyDone();
    });
}

void RideSession::handleReply(const QString &status, const QJsonValue &response)
{
    if (status == okStatus) {
        ++m_statistics.accepted;
    } else {
        ++m_statistics.rejected;
        const QString reason = reasonOf(response);
        int &count = m_statistics.rejectedByReason[reason];
        if (count++ == 0) {
            const QString message = response.toObject().value(QLatin1String("message")).toString();
            emit warningPrinted(
                tr("the server rejected a fix: %1%2 (further rejections for "
                   "this reason are counted, not printed)")
                    .arg(reason, message.isEmpty() ? QString() : QStringLiteral(": ") + message));
        }
    }
    replyDone();
}

void RideSession::replyDone()
{
    --m_repliesPending;
    if (m_finishing && m_repliesPending == 0)
        leaveNow();
}

void RideSession::finish()
{
    if (m_finishing || m_finished)
        return;
    m_finishing = true;
    qCInfo(lcRider).noquote() << "finishing ride" << m_slug << "with" << m_repliesPending
                              << "replies pending";
    if (m_repliesPending == 0) {
        leaveNow();
        return;
    }
    QTimer::singleShot(m_options.pushTimeout, this, &RideSession::leaveNow);
}

void RideSession::leaveNow()
{
    if (m_leaving || m_finished)
        return;
    m_leaving = true;
    const auto done = [this] {
        if (m_finished)
            return;
        printSummary();
        m_finished = true;
        m_socket->disconnectFromServer();
        emit finished(0);
    };
    if (m_tracking && m_tracking->state() != Phoenix::Channel::State::Closed) {
        connect(m_tracking, &Phoenix::Channel::left, this, done);
        m_tracking->leave();
    } else {
        done();
    }
}

void RideSession::fail(const QString &message)
{
    if (m_finished)
        return;
    m_finished = true;
    qCWarning(lcRider).noquote() << "ride session failed:" << message;
    emit warningPrinted(tr("error: %1").arg(message));
    m_socket->disconnectFromServer();
    // Queued, so that a caller of start() receives the signal after start() returns.
    QTimer::singleShot(0, this, [this] { emit finished(1); });
}

void RideSession::printSummary()
{
    if (m_slug.isEmpty()) {
        emit messagePrinted(tr("No ride was created."));
        return;
    }
    QString line = tr("Ride %1 ended: %2 fixes, %3 accepted, %4 rejected, %5 without reply, %6 "
                      "not sent while disconnected")
                       .arg(m_slug)
                       .arg(m_statistics.published)
                       .arg(m_statistics.accepted)
                       .arg(m_statistics.rejected)
                       .arg(m_statistics.timedOut)
                       .arg(m_statistics.notSent);
    emit messagePrinted(line);
    for (auto it = m_statistics.rejectedByReason.cbegin();
         it != m_statistics.rejectedByReason.cend(); ++it) {
        emit messagePrinted(tr("  rejected as %1: %2").arg(it.key()).arg(it.value()));
    }
}

} // namespace Omw::Rider
