#include "session.h"

#include "connection.h"
#include "logging.h"
#include "sessionmanager.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QJsonArray>

namespace Omw {

QString endReasonName(EndReason reason)
{
    switch (reason) {
    case EndReason::RiderLeft:
        return QStringLiteral("rider_left");
    case EndReason::GraceExpired:
        return QStringLiteral("grace_expired");
    case EndReason::Inactivity:
        return QStringLiteral("inactivity");
    case EndReason::MaxDuration:
        return QStringLiteral("max_duration");
    case EndReason::Shutdown:
        return QStringLiteral("shutdown");
    }
    return QString();
}

Session::Session(const QString &slug, const QByteArray &tokenHash, SessionManager *manager)
    : QObject(manager),
      m_manager(manager),
      m_slug(slug),
      m_tokenHash(tokenHash),
      m_startedAt(QDateTime::currentMSecsSinceEpoch())
{
    const ServerConfig &config = manager->config();
    m_graceTimer.setSingleShot(true);
    m_graceTimer.setInterval(int(config.riderGrace));
    connect(&m_graceTimer, &QTimer::timeout, this,
            [this] { m_manager->endSession(this, EndReason::GraceExpired); });

    // The inactivity timer is not restarted by every position, which would cost a timer
    // re-registration per point: when it fires, it re-arms itself for the time left.
    m_inactivityTimer.setSingleShot(true);
    m_inactivityTimer.setInterval(int(config.inactivityTimeout));
    connect(&m_inactivityTimer, &QTimer::timeout, this, &Session::checkInactivity);
    m_inactivityTimer.start();

    m_durationTimer.setSingleShot(true);
    m_durationTimer.setInterval(int(config.maxRideDuration));
    connect(&m_durationTimer, &QTimer::timeout, this,
            [this] { m_manager->endSession(this, EndReason::MaxDuration); });
    m_durationTimer.start();
    m_lastPositionAt = QDeadlineTimer::current().deadline();
}

Session::~Session() = default;

QString Session::stateName() const
{
    switch (m_state) {
    case State::Live:
        return m_hasPosition ? QStringLiteral("live") : QStringLiteral("waiting");
    case State::Offline:
        return QStringLiteral("offline");
    case State::Ended:
        return QStringLiteral("ended");
    }
    return QString();
}

QJsonObject Session::snapshot(int trailLength) const
{
    QJsonArray trail;
    const size_t skipped = trailLength < 0 || size_t(trailLength) >= m_trail.size()
        ? 0
        : m_trail.size() - size_t(trailLength);
    for (auto it = m_trail.cbegin() + qsizetype(skipped); it != m_trail.cend(); ++it) {
        trail.append(it->toBroadcastPayload(m_slug));
    }
    return QJsonObject {
        {QStringLiteral("slug"), m_slug},
        {QStringLiteral("state"), stateName()},
        {QStringLiteral("last"),
         m_hasPosition ? QJsonValue(m_lastPayload) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("trail"), trail},
    };
}

void Session::attachRider(Connection *rider)
{
    m_rider = rider;
    m_graceTimer.stop();
    if (m_state == State::Offline) {
        m_state = State::Live;
        m_offlineSince = 0;
        qCInfo(lcSession).nospace().noquote()
            << "ride " << m_slug << " is live again, rider connection " << rider->id();
        m_manager->broadcastRideEvent(this, QStringLiteral("RIDER_ONLINE"), QJsonObject());
        Q_EMIT stateChanged(m_state);
    }
}

void Session::detachRider()
{
    if (m_state != State::Live) {
        return;
    }
    m_rider = nullptr;
    m_state = State::Offline;
    m_offlineSince = QDateTime::currentMSecsSinceEpoch();
    m_graceTimer.start();
    qCInfo(lcSession).nospace().noquote()
        << "ride " << m_slug << " is offline: the rider dropped off; it "
        << "ends unless the rider is back within " << m_graceTimer.interval() / 1000.0 << " s";
    m_manager->broadcastRideEvent(this, QStringLiteral("RIDER_OFFLINE"),
                                  QJsonObject {{QStringLiteral("since"), m_offlineSince}});
    Q_EMIT stateChanged(m_state);
}

Session::PositionOutcome Session::addPosition(const Position &position)
{
    if (m_hasPosition) {
        if (position.sameFixAs(m_position)) {
            return PositionOutcome::Repeated;
        }
        if (position.timestamp < m_position.timestamp) {
            return PositionOutcome::OutOfOrder;
        }
    }
    const bool wasWaiting = !m_hasPosition;
    m_hasPosition = true;
    m_position = position;
    m_lastPositionAt = QDeadlineTimer::current().deadline();
    m_lastPayload = position.toBroadcastPayload(m_slug);
    m_trail.push_back(position);
    while (int(m_trail.size()) > m_manager->config().trailLength) {
        m_trail.pop_front();
    }
    m_manager->broadcastRideEvent(this, QStringLiteral("NEW_COORDS"), m_lastPayload);
    Q_EMIT positionChanged(m_position);
    if (wasWaiting) {
        Q_EMIT stateChanged(m_state);
    }
    return PositionOutcome::Accepted;
}

void Session::checkInactivity()
{
    const qint64 idle = QDeadlineTimer::current().deadline() - m_lastPositionAt;
    const qint64 limit = m_manager->config().inactivityTimeout;
    if (idle >= limit) {
        m_manager->endSession(this, EndReason::Inactivity);
        return;
    }
    m_inactivityTimer.start(int(limit - idle));
}

void Session::markEnded()
{
    m_state = State::Ended;
    m_rider = nullptr;
    m_graceTimer.stop();
    m_inactivityTimer.stop();
    m_durationTimer.stop();
    Q_EMIT stateChanged(m_state);
}

} // namespace Omw
