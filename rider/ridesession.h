#pragma once

#include "position.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QUrl>

namespace Omw::Phoenix {
class Channel;
class Socket;
} // namespace Omw::Phoenix

namespace Omw::Rider {

// The `NEW_COORDS` payload of a fix: latitude, longitude, speed (m/s) and heading (degrees),
// null when unknown, plus timestamp (epoch ms), accuracy and altitude (metres) when known.
QJsonObject newCoordsPayload(const Position &position);

// The rider's side of the protocol on one socket. It onboards with `CREATE_SESSION` unless a
// slug and a token are given, joins `tracking:<slug>` with the token, publishes fixes as
// `NEW_COORDS` and counts the server's replies. At the end it leaves the channel, so that
// followers get `TERMINATED`.
//
// The socket reconnects by itself after a drop and the channel rejoins with the same token.
// Fixes published while the channel is not joined are not sent; they are counted as skipped.
class RideSession : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QUrl server = QUrl(QStringLiteral("ws://127.0.0.1:4000/socket"));
        QString slug; // with token: reuse this ride instead of creating one
        QString token;
        int pushTimeout = 10'000; // milliseconds to wait for each reply
        int rejoinDelay = 2'000; // milliseconds before retrying a join refused as in use
    };

    struct Statistics
    {
        int published = 0; // fixes handed to publish()
        int sent = 0; // fixes sent to the server
        int accepted = 0; // `ok` replies
        int rejected = 0; // `error` replies, by reason in rejectedByReason
        int timedOut = 0; // no reply within the push timeout
        int notSent = 0; // published while disconnected or not joined
        QHash<QString, int> rejectedByReason;
    };

    explicit RideSession(const Options &options, QObject *parent = nullptr);
    ~RideSession() override;

    Phoenix::Socket *socket() const { return m_socket; }
    QString slug() const { return m_slug; }
    bool isRiding() const;
    const Statistics &statistics() const { return m_statistics; }
    int repliesPending() const { return m_repliesPending; }

    // The lines printed for the rider once the ride exists: its mnemonic and how to follow it.
    QStringList followInstructions() const;

public Q_SLOTS:
    void start();
    void publish(const Omw::Position &position);
    // Waits for outstanding replies (at most the push timeout), leaves the tracking channel and
    // disconnects, then emits finished().
    void finish();

Q_SIGNALS:
    // The tracking channel was joined for the first time; fixes may flow.
    void ready();
    // A line for the rider on standard output.
    void messagePrinted(const QString &line);
    // A line for the rider on standard error.
    void warningPrinted(const QString &line);
    // The session is over: 0 after a normal end, 1 after a fatal error.
    void finished(int exitCode);

private:
    void onboard();
    void requestSessionName();
    void joinTracking();
    void handleTrackingJoined();
    void handleTrackingRejected(const QJsonValue &response);
    void handleReply(const QString &status, const QJsonValue &response);
    void replyDone();
    void leaveNow();
    void fail(const QString &message);
    void printSummary();

    Options m_options;
    Phoenix::Socket *m_socket = nullptr;
    QPointer<Phoenix::Channel> m_onboarding;
    QPointer<Phoenix::Channel> m_tracking;
    QString m_slug;
    QString m_token;
    Statistics m_statistics;
    int m_repliesPending = 0;
    int m_trackingJoins = 0;
    bool m_finishing = false;
    bool m_leaving = false;
    bool m_finished = false;
    bool m_reportedConnectFailure = false;
    bool m_reportedNotJoined = false;
    bool m_reportedInUse = false;
    bool m_reportedTimeout = false;
};

} // namespace Omw::Rider
