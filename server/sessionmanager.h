#pragma once

#include "dictionary.h"
#include "ratelimiter.h"
#include "serverconfig.h"
#include "session.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <vector>

namespace Omw {

class Connection;
class OutgoingFrame;
struct Metrics;

// Refusal of a request, sent to the client as `{"reason": code, "message": text}`.
struct Refusal
{
    QString reason;
    QString message;

    bool isNull() const { return reason.isEmpty(); }
    QJsonObject toJson() const;
};

// The one registry of rides: it reserves mnemonics, creates, owns and ends sessions, keeps the
// followers of each mnemonic and the dispatchers, and fans every ride event out to them.
class SessionManager : public QObject
{
    Q_OBJECT

public:
    SessionManager(const ServerConfig &config, Metrics *metrics, QObject *parent = nullptr);
    ~SessionManager() override;

    const ServerConfig &config() const { return m_config; }
    const Dictionary &dictionary() const { return m_dictionary; }

    Session *session(const QString &slug) const { return m_sessions.value(slug); }
    QList<Session *> sessions() const { return m_sessions.values(); }
    int sessionCount() const { return int(m_sessions.size()); }
    int sessionCount(Session::State state) const;
    int reservationCount() const { return int(m_reservations.size()); }
    int followerCount(const QString &slug) const;

    // Onboarding. Both reserve a fresh mnemonic, unique among rides, reservations and recently
    // ended rides; a reservation expires when no rider claims it in time.
    // `client` is the requesting address, which may hold only so many unclaimed names.
    QString reserveName(const QHostAddress &client, Refusal *refusal);
    // Returns the mnemonic and a new ride token (128 random bits, base64url).
    std::pair<QString, QString> createRide(const QHostAddress &client, Refusal *refusal);

    // Tracking. Returns the session `rider` now publishes to, creating it if needed, or null
    // with `refusal` set.
    Session *claimRide(const QString &slug, const QString &token, Connection *rider,
                       Refusal *refusal);
    // The rider left its channel: the ride ends.
    void riderLeft(Session *session, Connection *rider);
    // The rider's connection dropped without a leave: the ride goes offline.
    void riderDropped(Session *session, Connection *rider);
    // Validated positions enter here; returns the rejection, if any.
    Rejection addPosition(Session *session, const Position &position);

    // Following. Checks the per-address rate for rides that are not live and the follower cap.
    Refusal addFollower(const QString &slug, Connection *follower);
    void removeFollower(const QString &slug, Connection *follower);
    QJsonObject followerSnapshot(const QString &slug) const;

    // Dispatch. Its join snapshot carries at most this many trail positions per ride, so that it
    // stays a reasonable frame with thousands of rides; a ride's follow join has its full trail.
    static constexpr int dispatchTrailLength = 20;
    bool isDispatchEnabled() const { return !m_dispatchTokenHash.isEmpty(); }
    bool checkDispatchToken(const QString &token) const;
    void addDispatcher(Connection *dispatcher);
    void removeDispatcher(Connection *dispatcher);
    QJsonObject dispatchSnapshot() const;

    // Ends a ride: TERMINATED to its followers and the dispatchers, the rider's channel closed if
    // the rider is still connected, and the session removed from every index. The one place
    // where rides end.
    void endSession(Session *session, EndReason reason);
    // Ends every ride, for a server shutdown.
    void endAll();

    // Called by sessions.
    void broadcastRideEvent(Session *session, const QString &event, const QJsonObject &payload);

    static QByteArray hashToken(const QString &token);

    // Writes the rides that have a token to --state-file, if one is set and anything changed.
    void saveState();

Q_SIGNALS:
    void sessionCreated(Omw::Session *session);
    void sessionEnded(const QString &slug, Omw::EndReason reason);

private:
    struct Reservation
    {
        QByteArray tokenHash; // empty for GENERATE_NEW_SESSION_NAME
        qint64 expiresAt = 0; // monotonic milliseconds
        QHostAddress client; // who reserved it; null for tombstones
        bool ended = false; // a tombstone of an ended ride, kept so the name is not reused
        QJsonObject lastPayload; // for tombstones: the ride's final snapshot parts
        QJsonArray trail;
    };

    QString freshName(const QHostAddress &client, Refusal *refusal);
    void restoreState();
    void insertReservation(const QString &name, const Reservation &reservation);
    // Erases a reservation and keeps the per-address counts and the state file in step.
    QHash<QString, Reservation>::iterator
    eraseReservation(QHash<QString, Reservation>::iterator it);
    bool isNameTaken(const QString &slug) const;
    void sweep();
    void sendToFollowers(const QString &slug, const OutgoingFrame &frame);
    void sendToDispatchers(const OutgoingFrame &frame);

    ServerConfig m_config;
    Metrics *m_metrics;
    Dictionary m_dictionary;
    QByteArray m_dispatchTokenHash;
    QHash<QString, Session *> m_sessions;
    QHash<QString, Reservation> m_reservations;
    QHash<QHostAddress, int> m_reservationsByClient; // unclaimed names per address
    QHash<Session *, QHostAddress> m_rideStarters; // the address that started each ride
    QHash<QHostAddress, int> m_ridesByClient; // rides started per address
    QHash<QString, std::vector<Connection *>> m_followers;
    std::vector<Connection *> m_dispatchers;
    QHash<QHostAddress, TokenBucket> m_followJoinBuckets;
    QElapsedTimer m_clock;
    bool m_stateChanged = false; // rides with tokens changed since the last saveState()
    QTimer m_sweepTimer;
};

} // namespace Omw
