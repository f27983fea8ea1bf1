#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringList>

#include <optional>

class QCommandLineParser;

namespace Omw {

// Every setting of omw-server. Each field is a command-line option and a key of the
// configuration file with the same name (`--rider-grace 30` or `rider-grace = 30`); the command
// line wins over the file. Periods are in seconds on the command line and may be fractions;
// here they are milliseconds.
struct ServerConfig
{
    // Network
    QHostAddress bind = QHostAddress::LocalHost; // --bind
    quint16 port = 4000; // --port; 0 picks a free port
    QString tlsCertificate; // --tls-cert, PEM file; with --tls-key enables wss://
    QString tlsKey; // --tls-key, PEM file
    QStringList allowedOrigins; // --allowed-origin (repeatable); empty allows every Origin
    // --trusted-proxy (repeatable): peers whose X-Forwarded-For names the real client, whose
    // address the per-address limits then use
    QList<QHostAddress> trustedProxies;

    // Connections
    qint64 idleTimeout = 60'000; // --idle-timeout: close after this long without a frame
    int maxFrameSize = 64 * 1024; // --max-frame-size, bytes; larger frames close with 1009
    int maxChannels = 100; // --max-channels per connection
    double messageRate = 100; // --message-rate, sustained messages per second per connection
    int messageBurst = 200; // --message-burst, messages allowed above the sustained rate
    int maxConnections = 16'000; // --max-connections
    qint64 sendQueueLimit = 1024 * 1024; // --send-queue-limit, bytes queued for one follower

    // Rides
    int mnemonicWords = 2; // --mnemonic-words, 2 to 6
    bool requireToken = false; // --require-token: reject tracking joins without a ride token
    qint64 reservationTimeout = 600'000; // --reservation-timeout: unclaimed generated names
    int maxReservationsPerAddress = 20; // --max-reservations-per-address, unclaimed at once
    qint64 riderGrace = 120'000; // --rider-grace: an offline rider may come back this long
    qint64 inactivityTimeout = 1'800'000; // --inactivity-timeout: end a ride without positions
    qint64 maxRideDuration = 86'400'000; // --max-ride-duration
    int maxRides = 10'000; // --max-rides
    int maxRidesPerAddress = 100; // --max-rides-per-address, rides started from one address
    int maxFollowers = 20'000; // --max-followers per ride
    int trailLength = 500; // --trail-length, positions in a follower's join snapshot
    bool allowNoFix = false; // --allow-no-fix: accept exactly 0,0
    qint64 maxFutureSkew
        = 300'000; // --max-future-skew: how far ahead of the clock a timestamp may be
    double followJoinRate = 0.5; // --follow-join-rate, per second per address, rides not live
    int followJoinBurst = 20; // --follow-join-burst

    // Dispatch
    QString dispatchTokenFile; // --dispatch-token-file; no file disables the dispatch topic

    // State
    QString stateFile; // --state-file; ride names and token hashes kept across restarts

    // Adds every option to `parser`.
    static void addOptions(QCommandLineParser *parser);
    // Reads the options, and the configuration file named by --config first. Returns nothing and
    // sets `errorString` when a value is invalid.
    static std::optional<ServerConfig> fromCommandLine(const QCommandLineParser &parser,
                                                       QString *errorString);
};

} // namespace Omw
