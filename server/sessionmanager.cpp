#include "sessionmanager.h"

#include "connection.h"
#include "logging.h"
#include "metrics.h"
#include "outgoingframe.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>

#include <algorithm>

namespace Omw {

namespace {

const QString followingPrefix = QStringLiteral("following:");
const QString trackingPrefix = QStringLiteral("tracking:");
const QString dispatchTopic = QStringLiteral("dispatch");

qint64 monotonicNow()
{
    return QDeadlineTimer::current().deadline();
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i) {
        difference |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    }
    return difference == 0;
}

Refusal refuse(const QString &reason, const QString &message)
{
    return Refusal {reason, message};
}

} // namespace

QJsonObject Refusal::toJson() const
{
    return QJsonObject {{QStringLiteral("reason"), reason}, {QStringLiteral("message"), message}};
}

SessionManager::SessionManager(const ServerConfig &config, Metrics *metrics, QObject *parent)
    : QObject(parent), m_config(config), m_metrics(metrics)
{
    m_clock.start();
    if (!config.dispatchTokenFile.isEmpty()) {
        QFile file(config.dispatchTokenFile);
        if (!file.open(QIODevice::ReadOnly)) {
            qCWarning(lcSession).noquote()
                << "dispatch is disabled: cannot read the dispatcher token file"
                << config.dispatchTokenFile << ":" << file.errorString();
        } else {
            const QString token = QString::fromUtf8(file.readAll()).trimmed();
            if (token.isEmpty()) {
                qCWarning(lcSession).noquote() << "dispatch is disabled: the dispatcher token file"
                                               << config.dispatchTokenFile << "is empty";
            } else {
                m_dispatchTokenHash = hashToken(token);
                qCInfo(lcSession).noquote()
                    << "dispatch is enabled with the token from" << config.dispatchTokenFile;
            }
        }
    }
    restoreState();
    // Often enough that a reservation expires within a quarter of its period.
    m_sweepTimer.setInterval(int(std::clamp<qint64>(config.reservationTimeout / 4, 20, 1000)));
    connect(&m_sweepTimer, &QTimer::timeout, this, &SessionManager::sweep);
    m_sweepTimer.start();
}

SessionManager::~SessionManager()
{
    qDeleteAll(m_sessions);
}

QByteArray SessionManager::hashToken(const QString &token)
{
    return QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256);
}

int SessionManager::sessionCount(Session::State state) const
{
    return int(
        std::count_if(m_sessions.cbegin(), m_sessions.cend(),
                      [state](const Session *session) { return session->state() == state; }));
}

int SessionManager::followerCount(const QString &slug) const
{
    const auto it = m_followers.constFind(slug);
    return it == m_followers.cend() ? 0 : int(it->size());
}

bool SessionManager::isNameTaken(const QString &slug) const
{
    return m_sessions.contains(slug) || m_reservations.contains(slug);
}

QString SessionManager::freshName(const QHostAddress &client, Refusal *refusal)
{
    if (m_reservationsByClient.value(client) >= m_config.maxReservationsPerAddress) {
        *refusal = refuse(QStringLiteral("too_many_reservations"),
                          QStringLiteral("this address holds %1 ride names that no rider has "
                                         "joined yet: join one, or wait for them to expire")
                              .arg(m_config.maxReservationsPerAddress));
        return QString();
    }
    // Tombstones of ended rides are in m_reservations too, but they are no unclaimed names.
    const auto unclaimed = std::count_if(m_reservations.cbegin(), m_reservations.cend(),
                                         [](const Reservation &r) { return !r.ended; });
    if (unclaimed >= m_config.maxRides) {
        *refusal = refuse(QStringLiteral("too_many_rides"),
                          QStringLiteral("the server holds its maximum of %1 unclaimed ride names; "
                                         "try again in a few minutes")
                              .arg(m_config.maxRides));
        return QString();
    }
    // Even at the cap of rides and reservations, two words leave over 99% of the 4 million
    // names free, so a few attempts find one.
    for (int attempt = 0; attempt < 64; ++attempt) {
        const QString name = m_dictionary.randomMnemonic(m_config.mnemonicWords);
        if (!isNameTaken(name)) {
            return name;
        }
    }
    *refusal = refuse(QStringLiteral("no_free_name"),
                      QStringLiteral("no free ride name was found; try again"));
    qCWarning(lcSession).noquote() << "no free ride name found in 64 attempts";
    return QString();
}

QString SessionManager::reserveName(const QHostAddress &client, Refusal *refusal)
{
    const QString name = freshName(client, refusal);
    if (name.isEmpty()) {
        return name;
    }
    Reservation reservation;
    reservation.expiresAt = monotonicNow() + m_config.reservationTimeout;
    reservation.client = client;
    insertReservation(name, reservation);
    qCInfo(lcSession).noquote() << "reserved ride name" << name << "for" << client.toString();
    return name;
}

std::pair<QString, QString> SessionManager::createRide(const QHostAddress &client, Refusal *refusal)
{
    const QString name = freshName(client, refusal);
    if (name.isEmpty()) {
        return {};
    }
    // 128 bits from the operating system's cryptographic generator.
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    const QByteArray raw(reinterpret_cast<const char *>(words), sizeof(words));
    const QString token = QString::fromLatin1(
        raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));

    Reservation reservation;
    reservation.tokenHash = hashToken(token);
    reservation.expiresAt = monotonicNow() + m_config.reservationTimeout;
    reservation.client = client;
    insertReservation(name, reservation);
    m_stateChanged = true;
    qCInfo(lcSession).noquote() << "created ride" << name << "with a token for"
                                << client.toString();
    return {name, token};
}

Session *SessionManager::claimRide(const QString &slug, const QString &token, Connection *rider,
                                   Refusal *refusal)
{
    const QByteArray tokenHash = token.isEmpty() ? QByteArray() : hashToken(token);
    if (Session *session = m_sessions.value(slug)) {
        if (session->rider() == rider) {
            return session; // a duplicate join on the same socket keeps the ride
        }
        if (session->hasToken()) {
            if (!constantTimeEquals(tokenHash, session->tokenHash())) {
                *refusal = refuse(QStringLiteral("unauthorized"),
                                  QStringLiteral("ride %1 belongs to the holder of its token: "
                                                 "join with the params {\"token\": ...} that "
                                                 "CREATE_SESSION returned")
                                      .arg(slug));
                return nullptr;
            }
            // The token proves ownership, so its holder takes the ride over from an older
            // connection that has not been noticed as dead yet.
            if (Connection *previous = session->rider()) {
                qCInfo(lcSession).nospace().noquote()
                    << "ride " << slug << ": connection " << rider->id()
                    << " presented the token and takes over from connection " << previous->id();
                previous->closeChannelByServer(trackingPrefix + slug);
            }
        } else {
            if (m_config.requireToken) {
                *refusal = refuse(QStringLiteral("unauthorized"),
                                  QStringLiteral("this server requires ride tokens: create the "
                                                 "ride with CREATE_SESSION on onboarding"));
                return nullptr;
            }
            if (session->rider()) {
                *refusal
                    = refuse(QStringLiteral("session_in_use"),
                             QStringLiteral("ride %1 already has a connected rider").arg(slug));
                return nullptr;
            }
        }
        session->attachRider(rider);
        return session;
    }

    if (m_sessions.size() >= m_config.maxRides) {
        *refusal = refuse(QStringLiteral("too_many_rides"),
                          QStringLiteral("the server carries its maximum of %1 rides; try again "
                                         "later")
                              .arg(m_config.maxRides));
        return nullptr;
    }

    const QHostAddress starter = rider->peerAddress();
    if (m_ridesByClient.value(starter) >= m_config.maxRidesPerAddress) {
        *refusal = refuse(QStringLiteral("too_many_rides"),
                          QStringLiteral("this address has started %1 rides that are still live "
                                         "or offline: end one first")
                              .arg(m_config.maxRidesPerAddress));
        return nullptr;
    }

    QByteArray sessionTokenHash;
    const auto reservation = m_reservations.find(slug);
    if (reservation != m_reservations.end() && !reservation->tokenHash.isEmpty()) {
        if (!constantTimeEquals(tokenHash, reservation->tokenHash)) {
            *refusal = refuse(QStringLiteral("unauthorized"),
                              QStringLiteral("ride %1 belongs to the holder of its token: join "
                                             "with the params {\"token\": ...} that "
                                             "CREATE_SESSION returned")
                                  .arg(slug));
            return nullptr;
        }
        sessionTokenHash = reservation->tokenHash;
    } else if (!tokenHash.isEmpty()) {
        // A name the server does not know, joined with a token. After a restart with
        // --state-file, a ride that was running is a reservation with its token hash and does
        // not reach this branch. Without a state file the server has forgotten the ride, so the
        // first join adopts the name with the token it presents.
        sessionTokenHash = tokenHash;
    } else if (m_config.requireToken) {
        *refusal = refuse(QStringLiteral("unauthorized"),
                          QStringLiteral("this server requires ride tokens: create the ride with "
                                         "CREATE_SESSION on onboarding"));
        return nullptr;
    }
    if (reservation != m_reservations.end()) {
        eraseReservation(reservation);
    }

    auto *session = new Session(slug, sessionTokenHash, this);
    m_sessions.insert(slug, session);
    m_rideStarters.insert(session, starter);
    m_stateChanged = m_stateChanged || session->hasToken();
    ++m_ridesByClient[starter];
    session->attachRider(rider);
    ++m_metrics->ridesStarted;
    qCInfo(lcSession).nospace().noquote()
        << "ride " << slug << " started by connection " << rider->id()
        << (session->hasToken() ? " (token)" : " (no token)") << ", " << m_sessions.size()
        << " rides";
    if (!m_dispatchers.empty()) {
        sendToDispatchers(
            OutgoingFrame(Phoenix::makeBroadcast(dispatchTopic, QStringLiteral("SESSION_STARTED"),
                                                 QJsonObject {{QStringLiteral("slug"), slug}})));
    }
    Q_EMIT sessionCreated(session);
    return session;
}

void SessionManager::insertReservation(const QString &name, const Reservation &reservation)
{
    const auto previous = m_reservations.find(name);
    if (previous != m_reservations.end()) {
        eraseReservation(previous);
    }
    m_reservations.insert(name, reservation);
    if (!reservation.client.isNull()) {
        ++m_reservationsByClient[reservation.client];
    }
}

QHash<QString, SessionManager::Reservation>::iterator
SessionManager::eraseReservation(QHash<QString, Reservation>::iterator it)
{
    if (!it->client.isNull()) {
        const auto count = m_reservationsByClient.find(it->client);
        if (count != m_reservationsByClient.end() && --*count <= 0) {
            m_reservationsByClient.erase(count);
        }
    }
    m_stateChanged = m_stateChanged || (!it->ended && !it->tokenHash.isEmpty());
    return m_reservations.erase(it);
}

void SessionManager::riderLeft(Session *session, Connection *rider)
{
    if (session->rider() == rider) {
        endSession(session, EndReason::RiderLeft);
    }
}

void SessionManager::riderDropped(Session *session, Connection *rider)
{
    if (session->rider() == rider) {
        session->detachRider();
    }
}

Rejection SessionManager::addPosition(Session *session, const Position &position)
{
    switch (session->addPosition(position)) {
    case Session::PositionOutcome::Accepted:
        ++m_metrics->positionsAccepted;
        return Rejection::None;
    case Session::PositionOutcome::Repeated:
        ++m_metrics->positionsRepeated;
        return Rejection::None;
    case Session::PositionOutcome::OutOfOrder:
        break;
    }
    return Rejection::OutOfOrder;
}

Refusal SessionManager::addFollower(const QString &slug, Connection *follower)
{
    // Joins of names that are not live take from the address's allowance, and joins of live
    // rides do not, so a crowd following a ride is not turned away. Once the allowance is used
    // up, every follow join of the address is rejected, live rides included. Otherwise the
    // answers would tell a guesser which names are live.
    const Session *session = m_sessions.value(slug);
    const bool live = session && session->state() == Session::State::Live;
    TokenBucket &bucket = m_followJoinBuckets[follower->peerAddress()];
    const qint64 now = m_clock.elapsed() + 1;
    const bool allowed = live
        ? bucket.canTake(now, m_config.followJoinRate, m_config.followJoinBurst)
        : bucket.tryTake(now, m_config.followJoinRate, m_config.followJoinBurst);
    if (!allowed) {
        ++m_metrics->followJoinsRateLimited;
        return refuse(QStringLiteral("rate_limited"),
                      QStringLiteral("too many follow joins of rides that are not live from "
                                     "this address; at most %1 per second: try again later")
                          .arg(m_config.followJoinRate));
    }
    std::vector<Connection *> &followers = m_followers[slug];
    if (int(followers.size()) >= m_config.maxFollowers) {
        if (followers.empty()) {
            m_followers.remove(slug);
        }
        return refuse(QStringLiteral("too_many_followers"),
                      QStringLiteral("ride %1 has its maximum of %2 followers")
                          .arg(slug)
                          .arg(m_config.maxFollowers));
    }
    followers.push_back(follower);
    return Refusal();
}

void SessionManager::removeFollower(const QString &slug, Connection *follower)
{
    const auto it = m_followers.find(slug);
    if (it == m_followers.end()) {
        return;
    }
    std::vector<Connection *> &followers = *it;
    const auto found = std::find(followers.begin(), followers.end(), follower);
    if (found != followers.end()) {
        *found = followers.back();
        followers.pop_back();
    }
    if (followers.empty()) {
        m_followers.erase(it);
    }
}

QJsonObject SessionManager::followerSnapshot(const QString &slug) const
{
    if (const Session *session = m_sessions.value(slug)) {
        return session->snapshot();
    }
    const auto tombstone = m_reservations.constFind(slug);
    if (tombstone != m_reservations.cend() && tombstone->ended) {
        return QJsonObject {{QStringLiteral("slug"), slug},
                            {QStringLiteral("state"), QStringLiteral("ended")},
                            {QStringLiteral("last"),
                             tombstone->lastPayload.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                              : QJsonValue(tombstone->lastPayload)},
                            {QStringLiteral("trail"), tombstone->trail}};
    }
    return QJsonObject {{QStringLiteral("slug"), slug},
                        {QStringLiteral("state"), QStringLiteral("waiting")},
                        {QStringLiteral("last"), QJsonValue::Null},
                        {QStringLiteral("trail"), QJsonArray()}};
}

bool SessionManager::checkDispatchToken(const QString &token) const
{
    return isDispatchEnabled() && constantTimeEquals(hashToken(token), m_dispatchTokenHash);
}

void SessionManager::addDispatcher(Connection *dispatcher)
{
    m_dispatchers.push_back(dispatcher);
}

void SessionManager::removeDispatcher(Connection *dispatcher)
{
    m_dispatchers.erase(std::remove(m_dispatchers.begin(), m_dispatchers.end(), dispatcher),
                        m_dispatchers.end());
}

QJsonObject SessionManager::dispatchSnapshot() const
{
    QJsonArray rides;
    for (const Session *session : m_sessions) {
        rides.append(session->snapshot(dispatchTrailLength));
    }
    return QJsonObject {{QStringLiteral("rides"), rides}};
}

void SessionManager::endSession(Session *session, EndReason reason)
{
    const QString slug = session->slug();
    if (m_sessions.value(slug) != session) {
        return; // already ended
    }
    Connection *rider = session->rider();
    m_sessions.remove(slug);
    m_stateChanged = m_stateChanged || session->hasToken();
    const QHostAddress starter = m_rideStarters.take(session);
    const auto started = m_ridesByClient.find(starter);
    if (started != m_ridesByClient.end() && --*started <= 0) {
        m_ridesByClient.erase(started);
    }

    broadcastRideEvent(session, QStringLiteral("TERMINATED"), QJsonObject());

    // Keep the name out of circulation for a while, so that followers of the ended ride do not
    // silently start watching a stranger's new ride under the same name.
    Reservation tombstone;
    tombstone.ended = true;
    tombstone.tokenHash = session->tokenHash();
    tombstone.expiresAt = monotonicNow() + m_config.reservationTimeout;
    tombstone.lastPayload = session->hasPosition() ? session->lastPayload() : QJsonObject();
    tombstone.trail = session->snapshot().value(QStringLiteral("trail")).toArray();
    insertReservation(slug, tombstone);

    if (rider && reason != EndReason::RiderLeft) {
        rider->closeChannelByServer(trackingPrefix + slug);
    }
    session->markEnded();
    ++m_metrics->ridesEnded[endReasonName(reason)];
    qCInfo(lcSession).nospace().noquote() << "ride " << slug << " ended: " << endReasonName(reason)
                                          << ", " << m_sessions.size() << " rides";
    Q_EMIT session->ended(reason);
    Q_EMIT sessionEnded(slug, reason);
    session->deleteLater();
}

void SessionManager::endAll()
{
    const QList<Session *> all = m_sessions.values();
    for (Session *session : all) {
        endSession(session, EndReason::Shutdown);
    }
}

void SessionManager::broadcastRideEvent(Session *session, const QString &event,
                                        const QJsonObject &payload)
{
    const QString &slug = session->slug();
    if (m_followers.contains(slug)) {
        sendToFollowers(
            slug, OutgoingFrame(Phoenix::makeBroadcast(followingPrefix + slug, event, payload)));
    }
    if (!m_dispatchers.empty()) {
        QJsonObject dispatchPayload = payload;
        dispatchPayload.insert(QStringLiteral("slug"), slug);
        sendToDispatchers(
            OutgoingFrame(Phoenix::makeBroadcast(dispatchTopic, event, dispatchPayload)));
    }
}

void SessionManager::sendToFollowers(const QString &slug, const OutgoingFrame &frame)
{
    const auto it = m_followers.constFind(slug);
    if (it == m_followers.cend()) {
        return;
    }
    // Connection::sendFrame() never removes a follower synchronously, so the vector stays
    // valid for the whole loop.
    for (Connection *follower : *it) {
        follower->sendFrame(frame);
    }
}

void SessionManager::sendToDispatchers(const OutgoingFrame &frame)
{
    for (Connection *dispatcher : m_dispatchers) {
        dispatcher->sendFrame(frame);
    }
}

void SessionManager::restoreState()
{
    if (m_config.stateFile.isEmpty()) {
        qCInfo(lcSession).noquote()
            << "no --state-file: ride tokens are forgotten on restart, and a ride that was "
               "running then goes to the first rider who joins it with a token";
        return;
    }
    QFile file(m_config.stateFile);
    if (!file.exists()) {
        qCInfo(lcSession).noquote() << "state file" << m_config.stateFile
                                    << "does not exist yet; it is written when rides start";
        return;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcSession).noquote()
            << "cannot read the state file" << m_config.stateFile << ":" << file.errorString();
        return;
    }
    QJsonParseError error;
    const QJsonObject state = QJsonDocument::fromJson(file.readAll(), &error).object();
    if (error.error != QJsonParseError::NoError) {
        qCWarning(lcSession).noquote() << "ignoring the state file" << m_config.stateFile
                                       << ": it is not valid JSON:" << error.errorString();
        return;
    }
    // A restored ride waits for its rider as an offline ride would, and at least as long as an
    // unclaimed name: only its token claims it in that time.
    const qint64 expiresAt
        = monotonicNow() + std::max(m_config.riderGrace, m_config.reservationTimeout);
    int restored = 0;
    for (const QJsonValue &ride : state.value(QStringLiteral("rides")).toArray()) {
        const QString slug = ride[QStringLiteral("slug")].toString();
        const QByteArray tokenHash
            = QByteArray::fromHex(ride[QStringLiteral("token_sha256")].toString().toLatin1());
        if (slug.isEmpty() || tokenHash.size() != 32 || m_reservations.contains(slug)) {
            continue;
        }
        Reservation reservation;
        reservation.tokenHash = tokenHash;
        reservation.expiresAt = expiresAt;
        insertReservation(slug, reservation);
        ++restored;
    }
    qCInfo(lcSession).noquote() << "restored" << restored << "rides with tokens from"
                                << m_config.stateFile;
}

void SessionManager::saveState()
{
    if (m_config.stateFile.isEmpty() || !m_stateChanged) {
        return;
    }
    QJsonArray rides;
    auto add = [&rides](const QString &slug, const QByteArray &tokenHash) {
        if (!tokenHash.isEmpty()) {
            rides.append(QJsonObject {
                {QStringLiteral("slug"), slug},
                {QStringLiteral("token_sha256"), QString::fromLatin1(tokenHash.toHex())}});
        }
    };
    for (const Session *session : std::as_const(m_sessions)) {
        add(session->slug(), session->tokenHash());
    }
    for (auto it = m_reservations.cbegin(); it != m_reservations.cend(); ++it) {
        if (!it->ended) {
            add(it.key(), it->tokenHash);
        }
    }
    const QJsonObject state {
        {QStringLiteral("version"), 1},
        {QStringLiteral("saved_at"), double(QDateTime::currentMSecsSinceEpoch())},
        {QStringLiteral("rides"), rides}};
    QSaveFile file(m_config.stateFile);
    if (!file.open(QIODevice::WriteOnly)) {
        qCWarning(lcSession).noquote()
            << "cannot write the state file" << m_config.stateFile << ":" << file.errorString();
        return;
    }
    // Token hashes let nobody publish, but they are nobody else's business either.
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(QJsonDocument(state).toJson(QJsonDocument::Compact));
    if (!file.commit()) {
        qCWarning(lcSession).noquote()
            << "cannot write the state file" << m_config.stateFile << ":" << file.errorString();
        return;
    }
    m_stateChanged = false;
}

void SessionManager::sweep()
{
    saveState();
    const qint64 now = monotonicNow();
    for (auto it = m_reservations.begin(); it != m_reservations.end();) {
        if (it->expiresAt <= now) {
            if (!it->ended) {
                qCInfo(lcSession).noquote()
                    << "reservation of ride name" << it.key() << "expired unclaimed";
            }
            it = eraseReservation(it);
        } else {
            ++it;
        }
    }
    const qint64 clock = m_clock.elapsed() + 1;
    for (auto it = m_followJoinBuckets.begin(); it != m_followJoinBuckets.end();) {
        if (it->isFull(clock, m_config.followJoinRate, m_config.followJoinBurst)) {
            it = m_followJoinBuckets.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace Omw
