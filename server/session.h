#pragma once

#include "position.h"
#include "positionvalidator.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <deque>

namespace Omw {

class Connection;
class SessionManager;

// Why a ride ended. Each value has a name used in logs and metrics.
enum class EndReason {
    RiderLeft, // the rider left its channel (phx_leave)
    GraceExpired, // the rider dropped off and did not come back within the grace period
    Inactivity, // no position arrived within the inactivity limit
    MaxDuration, // the ride reached its maximum duration
    Shutdown, // the server stopped
};
QString endReasonName(EndReason reason);

// One ride, published by one rider on `tracking:<slug>` and relayed to the followers of
// `following:<slug>`. The SessionManager creates, owns and ends sessions; a session never
// deletes itself.
class Session : public QObject
{
    Q_OBJECT

public:
    enum class State { Live, Offline, Ended };
    Q_ENUM(State)

    // `tokenHash` is the SHA-256 of the ride token, or empty for a ride of an original client.
    Session(const QString &slug, const QByteArray &tokenHash, SessionManager *manager);
    ~Session() override;

    QString slug() const { return m_slug; }
    State state() const { return m_state; }
    // The wire name of the state as a follower sees it: "waiting" while live without a fix.
    QString stateName() const;
    qint64 startedAt() const { return m_startedAt; }
    qint64 offlineSince() const { return m_offlineSince; }

    bool hasToken() const { return !m_tokenHash.isEmpty(); }
    QByteArray tokenHash() const { return m_tokenHash; }
    Connection *rider() const { return m_rider; }

    bool hasPosition() const { return m_hasPosition; }
    const Position &position() const { return m_position; }
    // The newest `NEW_COORDS` payload, or an empty object before the first fix.
    const QJsonObject &lastPayload() const { return m_lastPayload; }
    const std::deque<Position> &trail() const { return m_trail; }

    // The follower join reply: {"slug", "state", "last", "trail"}, with at most `trailLength`
    // of the newest trail positions (all of them when negative).
    QJsonObject snapshot(int trailLength = -1) const;

    // Makes `rider` the ride's rider. A ride that was offline goes live again.
    void attachRider(Connection *rider);
    // The rider's connection dropped without a leave: the ride goes offline and the grace
    // period starts.
    void detachRider();

    // Outcome of offering a validated position to the ride.
    enum class PositionOutcome { Accepted, Repeated, OutOfOrder };
    PositionOutcome addPosition(const Position &position);

Q_SIGNALS:
    void stateChanged(Omw::Session::State state);
    void positionChanged(const Omw::Position &position);
    void ended(Omw::EndReason reason);

private:
    friend class SessionManager;
    void markEnded();
    void checkInactivity();

    SessionManager *m_manager;
    QString m_slug;
    QByteArray m_tokenHash;
    State m_state = State::Live;
    Connection *m_rider = nullptr;
    qint64 m_startedAt = 0;
    qint64 m_offlineSince = 0;
    qint64 m_lastPositionAt = 0; // monotonic milliseconds, for the inactivity limit
    bool m_hasPosition = false;
    Position m_position;
    QJsonObject m_lastPayload;
    std::deque<Position> m_trail;
    QTimer m_graceTimer;
    QTimer m_inactivityTimer;
    QTimer m_durationTimer;
};

} // namespace Omw

Q_DECLARE_METATYPE(Omw::EndReason)
