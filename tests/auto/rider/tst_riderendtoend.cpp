#include "../client/omwserverprocess.h"
#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"
#include "track.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

#include <cmath>
#include <csignal>
#include <sys/prctl.h>

using Omw::Position;
using Omw::Phoenix::Channel;
using Omw::Phoenix::Push;
using Omw::Phoenix::Socket;

namespace {

const QString riderPath = QStringLiteral(OMW_BINARY_DIR "/rider/omw-rider");

struct Ride
{
    QString slug;
    QString token;
};

// Collects what a follower of one ride receives: the join snapshot's trail, then every
// broadcast, and TERMINATED.
class Follower : public QObject
{
public:
    Follower(const QUrl &server, const QString &slug) : socket(server)
    {
        socket.setReconnectBaseDelay(100);
        socket.setReconnectMaxDelay(300);
        channel = socket.channel(QStringLiteral("following:") + slug);
        connect(channel, &Channel::joined, this, [this](const QJsonValue &response) {
            ++joins;
            if (joins > 1)
                return; // a rejoin's trail repeats fixes already counted
            for (const QJsonValue &entry :
                 response.toObject().value(QLatin1String("trail")).toArray())
                positions.append(entry.toObject());
        });
        connect(channel, &Channel::messageReceived, this,
                [this](const QString &event, const QJsonObject &payload) {
                    if (event == QLatin1String("NEW_COORDS"))
                        positions.append(payload);
                    else if (event == QLatin1String("TERMINATED"))
                        ++terminations;
                });
        channel->join();
        socket.connectToServer();
    }

    Socket socket;
    Channel *channel = nullptr;
    QList<QJsonObject> positions;
    int joins = 0;
    int terminations = 0;
};

// Runs omw-rider and keeps its output.
class RiderProcess
{
public:
    RiderProcess()
    {
        process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    }
    ~RiderProcess()
    {
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(5000);
        }
    }
    void start(const QStringList &arguments) { process.start(riderPath, arguments); }
    QString standardOutput()
    {
        output += process.readAllStandardOutput();
        return QString::fromUtf8(output);
    }
    QString standardError()
    {
        errors += process.readAllStandardError();
        return QString::fromUtf8(errors);
    }
    // Waits with the event loop running, so that followers in this process keep receiving.
    bool waitForExit(int milliseconds)
    {
        QSignalSpy finishedSpy(&process, &QProcess::finished);
        const bool finished
            = process.state() == QProcess::NotRunning || finishedSpy.wait(milliseconds);
        standardOutput();
        standardError();
        return finished;
    }
    void interrupt() { ::kill(pid_t(process.processId()), SIGINT); }

    QProcess process;
    QByteArray output;
    QByteArray errors;
};

Ride createRide(Socket *socket)
{
    Channel *onboarding = socket->channel(QStringLiteral("onboarding"));
    QSignalSpy joined(onboarding, &Channel::joined);
    onboarding->join();
    socket->connectToServer();
    if (!joined.wait(5000))
        return {};
    Push *push = onboarding->push(QStringLiteral("CREATE_SESSION"));
    QSignalSpy replied(push, &Push::replied);
    if (!replied.wait(5000))
        return {};
    const QJsonObject response = replied.at(0).at(1).toJsonValue().toObject();
    onboarding->leave();
    return {response.value(QLatin1String("slug")).toString(),
            response.value(QLatin1String("token")).toString()};
}

double numberOrUnknown(const QJsonValue &value)
{
    return value.isDouble() ? value.toDouble() : Position::unknown;
}

bool sameOrBothUnknown(double actual, double expected)
{
    return (std::isnan(actual) && std::isnan(expected)) || actual == expected;
}

} // namespace

class TestRiderEndToEnd : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void followerGetsEveryFix_data();
    void followerGetsEveryFix();
    void createsRideAndPrintsInstructions();
    void interruptLeavesChannel();
    void rejectionsReportedOnce();
    void reconnectsMidRide();
    void wrongTokenFails();
    void unreadableFileFails();

private:
    std::unique_ptr<OmwServerProcess> m_server;
};

void TestRiderEndToEnd::initTestCase()
{
    if (!QFile::exists(OmwServerProcess::binaryPath()) || !QFile::exists(riderPath))
        QSKIP("omw-server or omw-rider is not built; build both targets first");
}

void TestRiderEndToEnd::init()
{
    m_server = std::make_unique<OmwServerProcess>();
    QVERIFY2(m_server->start(), qPrintable(m_server->errorString()));
}

void TestRiderEndToEnd::cleanup()
{
    m_server.reset();
}

void TestRiderEndToEnd::followerGetsEveryFix_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("fixes");
    QTest::newRow("NMEA, Brisbane drive") << "qtpositioning_nmealog.txt" << 156;
    QTest::newRow("GPX, Visnjan drive") << "gpxpy_around-visnjan-with-car.gpx" << 104;
    QTest::newRow("OwnTracks, motorway") << "owntracks_demo-iphone.rec" << 23;
}

void TestRiderEndToEnd::followerGetsEveryFix()
{
    QFETCH(QString, file);
    QFETCH(int, fixes);
    const QString path = QStringLiteral(OMW_TRACKS_DIR "/") + file;
    if (!QFile::exists(path))
        QSKIP(qPrintable(QStringLiteral("the real tracks folder is absent: %1").arg(path)));
    QString errorString;
    const std::optional<Omw::Rider::Track> track = Omw::Rider::readTrackFile(path, &errorString);
    QVERIFY2(track, qPrintable(errorString));
    QCOMPARE(track->fixes.size(), fixes);

    // The ride exists and the follower listens before the rider starts, so every fix is a
    // broadcast; recorded times make each value predictable.
    Socket owner(m_server->socketUrl());
    const Ride ride = createRide(&owner);
    QVERIFY(!ride.token.isEmpty());
    Follower follower(m_server->socketUrl(), ride.slug);
    QTRY_COMPARE_WITH_TIMEOUT(follower.joins, 1, 5000);

    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(),
                 QStringLiteral("--slug"), ride.slug, QStringLiteral("--token"), ride.token,
                 QStringLiteral("--original-times"), QStringLiteral("--speedup"),
                 QStringLiteral("50"), QStringLiteral("--max-pause"), QStringLiteral("1"), path});
    QVERIFY2(rider.waitForExit(60'000), qPrintable(rider.standardError()));
    QCOMPARE(rider.process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(rider.process.exitCode() == 0, qPrintable(rider.standardError()));
    QTRY_COMPARE_WITH_TIMEOUT(follower.terminations, 1, 5000);

    QVERIFY2(rider.standardOutput().contains(QStringLiteral("omw-console --follow ") + ride.slug),
             qPrintable(rider.standardOutput()));
    QVERIFY2(rider.standardOutput().contains(
                 QStringLiteral("%1 fixes, %1 accepted, 0 rejected").arg(fixes)),
             qPrintable(rider.standardOutput()));
    QCOMPARE(follower.positions.size(), fixes);
    for (int i = 0; i < fixes; ++i) {
        const Position &expected = track->fixes.at(i).position;
        const QJsonObject &received = follower.positions.at(i);
        QCOMPARE(received.value(QLatin1String("slug")).toString(), ride.slug);
        QCOMPARE(received.value(QLatin1String("latitude")).toDouble(), expected.latitude);
        QCOMPARE(received.value(QLatin1String("longitude")).toDouble(), expected.longitude);
        QCOMPARE(qint64(received.value(QLatin1String("timestamp")).toDouble()), expected.timestamp);
        QVERIFY2(sameOrBothUnknown(numberOrUnknown(received.value(QLatin1String("speed"))),
                                   expected.speed),
                 qPrintable(QStringLiteral("fix %1 speed").arg(i)));
        QVERIFY2(sameOrBothUnknown(numberOrUnknown(received.value(QLatin1String("heading"))),
                                   expected.heading),
                 qPrintable(QStringLiteral("fix %1 heading").arg(i)));
        QVERIFY2(sameOrBothUnknown(numberOrUnknown(received.value(QLatin1String("altitude"))),
                                   expected.altitude),
                 qPrintable(QStringLiteral("fix %1 altitude").arg(i)));
        QVERIFY2(sameOrBothUnknown(numberOrUnknown(received.value(QLatin1String("accuracy"))),
                                   expected.accuracy),
                 qPrintable(QStringLiteral("fix %1 accuracy").arg(i)));
    }
}

void TestRiderEndToEnd::createsRideAndPrintsInstructions()
{
    const QString demo = QStringLiteral(OMW_SOURCE_DIR "/rider/demo/demo-ride.gpx");
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(),
                 QStringLiteral("--speedup"), QStringLiteral("60"), demo});
    static const QRegularExpression ridePattern(QStringLiteral("^Ride: (\\w+-\\w+)$"),
                                                QRegularExpression::MultilineOption);
    QString slug;
    QTRY_VERIFY_WITH_TIMEOUT(
        !(slug = ridePattern.match(rider.standardOutput()).captured(1)).isEmpty(), 10'000);
    Follower follower(m_server->socketUrl(), slug);

    QVERIFY2(rider.waitForExit(60'000), qPrintable(rider.standardError()));
    QCOMPARE(rider.process.exitCode(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(follower.terminations, 1, 5000);
    const QString output = rider.standardOutput();
    QVERIFY2(output.contains(QStringLiteral("omw-console --follow ") + slug), qPrintable(output));
    QVERIFY2(output.contains(QStringLiteral("following:") + slug), qPrintable(output));
    QVERIFY2(output.contains(QLatin1String("241 fixes, 241 accepted, 0 rejected")),
             qPrintable(output));
    // The token is a secret: it is never printed.
    QVERIFY(!output.contains(QLatin1String("token")));

    // The follower joined late: the snapshot's trail and the broadcasts make up the whole ride.
    QCOMPARE(follower.positions.size(), 241);
    qint64 previous = 0;
    for (const QJsonObject &position : std::as_const(follower.positions)) {
        const qint64 timestamp = qint64(position.value(QLatin1String("timestamp")).toDouble());
        QVERIFY(timestamp > previous);
        previous = timestamp;
    }
    // Replay clock: 240 s of recording at speed-up 60 span exactly 4 s, starting now.
    const qint64 first
        = qint64(follower.positions.first().value(QLatin1String("timestamp")).toDouble());
    QVERIFY(first >= before);
    QVERIFY(first <= QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(previous - first, 4000);
}

void TestRiderEndToEnd::interruptLeavesChannel()
{
    Socket owner(m_server->socketUrl());
    const Ride ride = createRide(&owner);
    QVERIFY(!ride.token.isEmpty());
    Follower follower(m_server->socketUrl(), ride.slug);
    QTRY_COMPARE_WITH_TIMEOUT(follower.joins, 1, 5000);

    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(),
                 QStringLiteral("--slug"), ride.slug, QStringLiteral("--token"), ride.token,
                 QStringLiteral("--loop"), QStringLiteral("--speedup"), QStringLiteral("10"),
                 QStringLiteral(OMW_SOURCE_DIR "/rider/demo/demo-ride.gpx")});
    QTRY_VERIFY_WITH_TIMEOUT(follower.positions.size() >= 3, 10'000);
    QCOMPARE(follower.terminations, 0);

    rider.interrupt();
    QVERIFY2(rider.waitForExit(10'000), qPrintable(rider.standardError()));
    QCOMPARE(rider.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(rider.process.exitCode(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(follower.terminations, 1, 5000);
    QVERIFY2(rider.standardOutput().contains(QStringLiteral("Ride %1 ended").arg(ride.slug)),
             qPrintable(rider.standardOutput()));
}

void TestRiderEndToEnd::rejectionsReportedOnce()
{
    const QString path = QStringLiteral(OMW_TRACKS_DIR "/gpsd_bt451.log");
    if (!QFile::exists(path))
        QSKIP("the real tracks folder is absent");
    Socket owner(m_server->socketUrl());
    const Ride ride = createRide(&owner);
    Follower follower(m_server->socketUrl(), ride.slug);
    QTRY_COMPARE_WITH_TIMEOUT(follower.joins, 1, 5000);

    // With recorded times the driving excerpt (14:33) is older than the stationary one (15:25),
    // so the server rejects its 5 fixes as out of order and the ride goes on.
    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(),
                 QStringLiteral("--slug"), ride.slug, QStringLiteral("--token"), ride.token,
                 QStringLiteral("--original-times"), QStringLiteral("--speedup"),
                 QStringLiteral("20"), path});
    QVERIFY2(rider.waitForExit(30'000), qPrintable(rider.standardError()));
    QCOMPARE(rider.process.exitCode(), 0);
    const QString errors = rider.standardError();
    QCOMPARE(errors.count(QLatin1String("the server rejected a fix: out_of_order")), 1);
    QVERIFY2(errors.contains(QLatin1String("older than")), qPrintable(errors));
    // The quirks of the file, one line each.
    QCOMPARE(errors.count(QLatin1String("skipped 4 sentences or points without a fix")), 1);
    QCOMPARE(errors.count(QLatin1String("7 fixes have no course")), 1);
    QCOMPARE(errors.count(QLatin1String("jumps backwards at 1 places")), 1);
    const QString output = rider.standardOutput();
    QVERIFY2(output.contains(QLatin1String("13 fixes, 8 accepted, 5 rejected")),
             qPrintable(output));
    QVERIFY2(output.contains(QLatin1String("rejected as out_of_order: 5")), qPrintable(output));
    QTRY_COMPARE_WITH_TIMEOUT(follower.terminations, 1, 5000);
    QCOMPARE(follower.positions.size(), 8);
}

void TestRiderEndToEnd::reconnectsMidRide()
{
    Socket owner(m_server->socketUrl());
    const Ride ride = createRide(&owner);
    QVERIFY(!ride.token.isEmpty());
    owner.disconnectFromServer();
    Follower follower(m_server->socketUrl(), ride.slug);
    QTRY_COMPARE_WITH_TIMEOUT(follower.joins, 1, 5000);

    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(),
                 QStringLiteral("--slug"), ride.slug, QStringLiteral("--token"), ride.token,
                 QStringLiteral("--speedup"), QStringLiteral("10"),
                 QStringLiteral(OMW_SOURCE_DIR "/rider/demo/demo-ride.gpx")});
    QTRY_VERIFY_WITH_TIMEOUT(follower.positions.size() >= 5, 10'000);

    // Restart the server on the same port. The ride is lost with it, but the rider's token
    // adopts the name again, and the follower rejoins the same topic.
    const quint16 port = m_server->port();
    m_server->stop();
    const qsizetype beforeRestart = follower.positions.size();
    QTRY_VERIFY_WITH_TIMEOUT(rider.standardError().contains(QLatin1String("connection lost")),
                             10'000);
    // The outage itself: at speed-up 10 the rider has about 10 fixes it cannot send.
    QTest::qWait(1000);
    QVERIFY2(m_server->start(port), qPrintable(m_server->errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(rider.standardError().contains(
                                 QStringLiteral("reconnected; the ride %1 goes on").arg(ride.slug)),
                             15'000);
    QTRY_VERIFY_WITH_TIMEOUT(follower.positions.size() > beforeRestart, 10'000);

    QVERIFY2(rider.waitForExit(60'000), qPrintable(rider.standardError()));
    QCOMPARE(rider.process.exitCode(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(follower.terminations, 1, 5000);
    // Every fix is accounted for: accepted, or not sent while the server was away.
    static const QRegularExpression summary(
        QStringLiteral("241 fixes, (\\d+) accepted, 0 rejected, 0 without reply, (\\d+) not sent"));
    const QRegularExpressionMatch match = summary.match(rider.standardOutput());
    QVERIFY2(match.hasMatch(), qPrintable(rider.standardOutput()));
    const int accepted = match.captured(1).toInt();
    const int notSent = match.captured(2).toInt();
    QCOMPARE(accepted + notSent, 241);
    QVERIFY2(notSent > 0, "the outage should have cost some fixes");
    QVERIFY(accepted > 0);
}

void TestRiderEndToEnd::wrongTokenFails()
{
    Socket owner(m_server->socketUrl());
    const Ride ride = createRide(&owner);
    QVERIFY(!ride.token.isEmpty());
    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(),
                 QStringLiteral("--slug"), ride.slug, QStringLiteral("--token"),
                 QStringLiteral("not-the-token"),
                 QStringLiteral(OMW_SOURCE_DIR "/rider/demo/demo-ride.gpx")});
    QVERIFY(rider.waitForExit(10'000));
    QCOMPARE(rider.process.exitCode(), 1);
    const QString expected
        = QStringLiteral("error: the server rejected the join of tracking:%1 (unauthorized: "
                         "ride %1 belongs to the holder of its token")
              .arg(ride.slug);
    QVERIFY2(rider.standardError().contains(expected), qPrintable(rider.standardError()));
    QVERIFY(!rider.standardOutput().contains(QLatin1String("omw-console --follow")));
}

void TestRiderEndToEnd::unreadableFileFails()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile notes(dir.filePath(QStringLiteral("notes.txt")));
    QVERIFY(notes.open(QIODevice::WriteOnly));
    notes.write("not a track\n");
    notes.close();
    RiderProcess rider;
    rider.start({QStringLiteral("--server"), m_server->socketUrl().toString(), notes.fileName()});
    QVERIFY(rider.waitForExit(10'000));
    QCOMPARE(rider.process.exitCode(), 1);
    QVERIFY2(rider.standardError().contains(QLatin1String("cannot tell the format")),
             qPrintable(rider.standardError()));

    RiderProcess usage;
    usage.start({QStringLiteral("--speedup"), QStringLiteral("-2"), notes.fileName()});
    QVERIFY(usage.waitForExit(10'000));
    QCOMPARE(usage.process.exitCode(), 2);
}

QTEST_GUILESS_MAIN(TestRiderEndToEnd)
#include "tst_riderendtoend.moc"
