#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"
#include "ridemodel.h"
#include "ridetracker.h"
#include "serverprocess.h"

#include <QDateTime>
#include <QTemporaryDir>
#include <QtTest>

using namespace Omw;

namespace {

// A rider built on the Phoenix client library: creates a ride with CREATE_SESSION and
// publishes positions to it.
class TestRider
{
public:
    explicit TestRider(const QString &url) : m_socket(QUrl(url)) { }

    bool createRide()
    {
        m_socket.connectToServer();
        Phoenix::Channel *onboarding = m_socket.channel(QStringLiteral("onboarding"));
        QSignalSpy joined(onboarding, &Phoenix::Channel::joined);
        onboarding->join();
        if (!joined.wait(10000)) {
            return false;
        }
        Phoenix::Push *push = onboarding->push(QStringLiteral("CREATE_SESSION"));
        QSignalSpy replied(push, &Phoenix::Push::replied);
        if (!replied.wait(10000)) {
            return false;
        }
        const QJsonObject response = replied.at(0).at(1).toJsonValue().toObject();
        slug = response.value(QStringLiteral("slug")).toString();
        const QString token = response.value(QStringLiteral("token")).toString();
        tracking = m_socket.channel(QStringLiteral("tracking:") + slug,
                                    QJsonObject {{QStringLiteral("token"), token}});
        QSignalSpy trackingJoined(tracking, &Phoenix::Channel::joined);
        tracking->join();
        return trackingJoined.wait(10000) && !slug.isEmpty();
    }

    // Sends a position and waits for the server's reply; true when accepted.
    bool send(double latitude, double longitude, double speed, double heading)
    {
        const QJsonObject payload {
            {QStringLiteral("latitude"), latitude},
            {QStringLiteral("longitude"), longitude},
            {QStringLiteral("speed"), speed},
            {QStringLiteral("heading"), heading},
            {QStringLiteral("timestamp"), double(QDateTime::currentMSecsSinceEpoch() + m_sent++)},
        };
        Phoenix::Push *push = tracking->push(QStringLiteral("NEW_COORDS"), payload);
        QSignalSpy replied(push, &Phoenix::Push::replied);
        return replied.wait(10000) && replied.at(0).at(0).toString() == QLatin1String("ok");
    }

    Phoenix::Socket &socket() { return m_socket; }

    QString slug;
    Phoenix::Channel *tracking = nullptr;

private:
    Phoenix::Socket m_socket;
    int m_sent = 0;
};

} // namespace

class tst_RideTracker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void parseMnemonic_data();
    void parseMnemonic();
    void followRejectsText();
    void invalidServerUrl();
    void followSnapshotThenLive();
    void followWaitingRide();
    void stateTransitions();
    void unfollowLeaves();
    void dispatchSeesEveryRide();
    void dispatchRejectsWrongToken();
    void connectionStateFollowsServer();

private:
    bool startServer(ServerProcess &server, const QStringList &arguments = {});
    QTemporaryDir m_dir;
};

void tst_RideTracker::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

bool tst_RideTracker::startServer(ServerProcess &server, const QStringList &arguments)
{
    if (!server.start(arguments)) {
        qWarning().noquote() << server.errorString();
        return false;
    }
    return true;
}

void tst_RideTracker::parseMnemonic_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("mnemonic");

    QTest::newRow("mnemonic") << "describe-canoe"
                              << "describe-canoe";
    QTest::newRow("three words") << "abandon-ability-able"
                                 << "abandon-ability-able";
    QTest::newRow("spaces around") << "  describe-canoe \n"
                                   << "describe-canoe";
    // Ride names are case-sensitive on the server, so the case is kept.
    QTest::newRow("upper case") << "Describe-Canoe"
                                << "Describe-Canoe";
    QTest::newRow("link path") << "https://omw.example/follow/describe-canoe"
                               << "describe-canoe";
    QTest::newRow("link with hyphenated host") << "https://my-omw.example/describe-canoe"
                                               << "describe-canoe";
    QTest::newRow("link query") << "https://omw.example/?ride=describe-canoe"
                                << "describe-canoe";
    QTest::newRow("link fragment") << "https://omw.example/#describe-canoe"
                                   << "describe-canoe";
    QTest::newRow("one word") << "describe"
                              << "describe";
    QTest::newRow("leading hyphen") << "-describe"
                                    << "";
    QTest::newRow("64 characters")
        << QString(64, QLatin1Char('a')) << QString(64, QLatin1Char('a'));
    QTest::newRow("65 characters") << QString(65, QLatin1Char('a')) << "";
    QTest::newRow("trailing newline inside") << "describe-canoe\nx"
                                             << "";
    QTest::newRow("empty") << ""
                           << "";
    QTest::newRow("trailing hyphen") << "describe-"
                                     << "describe-";
    QTest::newRow("space inside") << "describe canoe"
                                  << "";
    QTest::newRow("link without mnemonic") << "https://omw.example/follow"
                                           << "";
}

void tst_RideTracker::parseMnemonic()
{
    QFETCH(QString, text);
    QFETCH(QString, mnemonic);
    QCOMPARE(RideTracker::parseMnemonic(text), mnemonic);
}

void tst_RideTracker::followRejectsText()
{
    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy errors(&tracker, &RideTracker::errorOccurred);
    QCOMPARE(tracker.follow(QStringLiteral("not a ride")), QString());
    QCOMPARE(errors.count(), 1);
    QCOMPARE(tracker.error(), RideTracker::InvalidMnemonic);
    QVERIFY(tracker.errorString().contains(QLatin1String("not a ride")));
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(tracker.followedRides().isEmpty());
}

void tst_RideTracker::invalidServerUrl()
{
    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy errors(&tracker, &RideTracker::errorOccurred);
    tracker.setServerUrl(QUrl(QStringLiteral("http://127.0.0.1:1/socket")));
    tracker.start();
    QCOMPARE(errors.count(), 1);
    QCOMPARE(tracker.error(), RideTracker::InvalidServerUrl);
    QCOMPARE(tracker.connectionState(), RideTracker::Disconnected);
}

void tst_RideTracker::followSnapshotThenLive()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    ServerProcess server;
    QVERIFY(startServer(server));
    TestRider rider(server.url());
    QVERIFY(rider.createRide());
    QVERIFY(rider.send(48.1, 11.5, 10, 90));
    QVERIFY(rider.send(48.1, 11.501, 11, 91));

    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy snapshots(&tracker, &RideTracker::snapshotApplied);
    tracker.setServerUrl(QUrl(server.url()));
    QCOMPARE(tracker.follow(rider.slug), rider.slug);
    QCOMPARE(model.rowCount(), 1);
    tracker.start();
    QVERIFY(snapshots.wait(10000));
    QCOMPARE(snapshots.at(0).at(0).toString(), QStringLiteral("following:") + rider.slug);
    QCOMPARE(tracker.connectionState(), RideTracker::Connected);
    QCOMPARE(model.stateAt(0), RideModel::Live);
    QCOMPARE(model.rideAt(0).trail.size(), 2);
    QCOMPARE(model.rideAt(0).last.longitude, 11.501);
    QCOMPARE(model.rideAt(0).last.heading, 91.0);

    QVERIFY(rider.send(48.1, 11.502, 12, 92));
    QTRY_COMPARE(model.rideAt(0).trail.size(), 3);
    QCOMPARE(model.rideAt(0).last.longitude, 11.502);
    QCOMPARE(model.rideAt(0).last.speed, 12.0);
    QVERIFY(model.rideAt(0).last.receivedAt > 0);
    QCOMPARE(model.rowCount(), 1);
}

void tst_RideTracker::followWaitingRide()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    ServerProcess server;
    QVERIFY(startServer(server));
    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy snapshots(&tracker, &RideTracker::snapshotApplied);
    tracker.setServerUrl(QUrl(server.url()));
    tracker.follow(QStringLiteral("abandon-zoo"));
    tracker.start();
    QVERIFY(snapshots.wait(10000));
    QCOMPARE(model.stateAt(0), RideModel::Waiting);
    QVERIFY(!model.rideAt(0).hasFix());
}

void tst_RideTracker::stateTransitions()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    ServerProcess server;
    QVERIFY(startServer(server));
    TestRider rider(server.url());
    QVERIFY(rider.createRide());
    QVERIFY(rider.send(48.1, 11.5, 10, 90));

    RideModel model;
    model.setClockRunning(false);
    RideTracker tracker(&model);
    QSignalSpy snapshots(&tracker, &RideTracker::snapshotApplied);
    tracker.setServerUrl(QUrl(server.url()));
    tracker.follow(rider.slug);
    tracker.start();
    QVERIFY(snapshots.wait(10000));
    model.setNow(QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(model.stateAt(0), RideModel::Live);

    // No fix for longer than staleAfter: stale, without any server event.
    model.setStaleAfter(30);
    model.setNow(model.rideAt(0).last.timestamp + 31000);
    QCOMPARE(model.stateAt(0), RideModel::Stale);
    model.setNow(QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(model.stateAt(0), RideModel::Live);

    // The rider's connection drops without a leave: RIDER_OFFLINE.
    rider.socket().disconnectFromServer();
    QTRY_COMPARE_WITH_TIMEOUT(model.stateAt(0), RideModel::Offline, 10000);
    QVERIFY(model.rideAt(0).offlineSince > 0);

    // The rider comes back and rejoins: RIDER_ONLINE.
    rider.socket().connectToServer();
    QTRY_COMPARE_WITH_TIMEOUT(model.stateAt(0), RideModel::Live, 10000);
    QCOMPARE(model.rideAt(0).offlineSince, 0);
    QVERIFY(rider.send(48.1, 11.51, 10, 90));
    QTRY_COMPARE(model.rideAt(0).last.longitude, 11.51);

    // The rider leaves: TERMINATED.
    rider.tracking->leave();
    QTRY_COMPARE_WITH_TIMEOUT(model.stateAt(0), RideModel::Ended, 10000);
    QCOMPARE(model.rowCount(), 1);
}

void tst_RideTracker::unfollowLeaves()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    ServerProcess server;
    QVERIFY(startServer(server));
    TestRider left(server.url());
    QVERIFY(left.createRide());
    QVERIFY(left.send(48.1, 11.5, 10, 90));
    TestRider kept(server.url());
    QVERIFY(kept.createRide());
    QVERIFY(kept.send(48.2, 11.6, 10, 90));

    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy snapshots(&tracker, &RideTracker::snapshotApplied);
    QSignalSpy followed(&tracker, &RideTracker::followedRidesChanged);
    tracker.setServerUrl(QUrl(server.url()));
    tracker.follow(left.slug);
    tracker.follow(kept.slug);
    tracker.start();
    QTRY_COMPARE_WITH_TIMEOUT(snapshots.count(), 2, 10000);
    tracker.unfollow(left.slug);
    QCOMPARE(followed.count(), 3);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(tracker.followedRides(), QStringList {kept.slug});

    // A point of the left ride is sent before one of the kept ride. Once the kept ride's point
    // has arrived, the left one would have arrived too, had the channel still been joined.
    QVERIFY(left.send(48.1, 11.52, 10, 90));
    QVERIFY(kept.send(48.2, 11.61, 10, 90));
    QTRY_COMPARE(model.rideAt(0).last.longitude, 11.61);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.indexOf(left.slug), -1);
}

void tst_RideTracker::dispatchSeesEveryRide()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    const QString tokenPath = m_dir.filePath(QStringLiteral("dispatch-token"));
    QFile tokenFile(tokenPath);
    QVERIFY(tokenFile.open(QIODevice::WriteOnly));
    tokenFile.write("test-dispatcher-token-0123456789\n");
    tokenFile.close();
    ServerProcess server;
    QVERIFY(startServer(server, {QStringLiteral("--dispatch-token-file"), tokenPath}));

    TestRider first(server.url());
    QVERIFY(first.createRide());
    QVERIFY(first.send(48.1, 11.5, 10, 90));

    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy snapshots(&tracker, &RideTracker::snapshotApplied);
    tracker.setServerUrl(QUrl(server.url()));
    tracker.setDispatchToken(QStringLiteral("test-dispatcher-token-0123456789"));
    tracker.start();
    QVERIFY(snapshots.wait(10000));
    QCOMPARE(snapshots.at(0).at(0).toString(), QStringLiteral("dispatch"));
    QCOMPARE(tracker.dispatchState(), RideTracker::DispatchJoined);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.rideAt(0).slug, first.slug);
    QCOMPARE(model.stateAt(0), RideModel::Live);

    // A ride that starts later is announced and then streamed.
    TestRider second(server.url());
    QVERIFY(second.createRide());
    QTRY_COMPARE(model.rowCount(), 2);
    QCOMPARE(model.rideAt(1).slug, second.slug);
    QVERIFY(second.send(-33.87, 151.21, 5, 180));
    QTRY_VERIFY(model.rideAt(1).hasFix());
    QCOMPARE(model.rideAt(1).last.heading, 180.0);
    QCOMPARE(model.stateAt(1), RideModel::Live);

    // A forgotten ride stays out of the list although the channel still streams it. The first
    // ride's later point shows that the second ride's earlier one has been delivered.
    tracker.forget(second.slug);
    QCOMPARE(model.rowCount(), 1);
    QVERIFY(second.send(-33.871, 151.21, 5, 180));
    QVERIFY(first.send(48.1, 11.501, 10, 90));
    QTRY_COMPARE(model.rideAt(0).last.longitude, 11.501);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.indexOf(second.slug), -1);

    first.tracking->leave();
    QTRY_COMPARE_WITH_TIMEOUT(model.stateAt(0), RideModel::Ended, 10000);
}

void tst_RideTracker::dispatchRejectsWrongToken()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    const QString tokenPath = m_dir.filePath(QStringLiteral("dispatch-token-2"));
    QFile tokenFile(tokenPath);
    QVERIFY(tokenFile.open(QIODevice::WriteOnly));
    tokenFile.write("the-right-token-abcdefghijklmnop");
    tokenFile.close();
    ServerProcess server;
    QVERIFY(startServer(server, {QStringLiteral("--dispatch-token-file"), tokenPath}));

    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy states(&tracker, &RideTracker::dispatchStateChanged);
    tracker.setServerUrl(QUrl(server.url()));
    tracker.setDispatchToken(QStringLiteral("a-wrong-token-abcdefghijklmnopq"));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("join of dispatch rejected")));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("dispatch join rejected")));
    tracker.start();
    QTRY_COMPARE_WITH_TIMEOUT(tracker.dispatchState(), RideTracker::DispatchRejected, 10000);
    QCOMPARE(tracker.error(), RideTracker::DispatchTokenRejected);
    QVERIFY(!tracker.errorString().contains(QLatin1String("a-wrong-token")));
    QCOMPARE(model.rowCount(), 0);
}

void tst_RideTracker::connectionStateFollowsServer()
{
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    ServerProcess server;
    QVERIFY(startServer(server));
    RideModel model;
    RideTracker tracker(&model);
    QSignalSpy states(&tracker, &RideTracker::connectionStateChanged);
    tracker.setServerUrl(QUrl(server.url()));
    QCOMPARE(tracker.connectionState(), RideTracker::Disconnected);
    tracker.start();
    QCOMPARE(tracker.connectionState(), RideTracker::Connecting);
    QTRY_COMPARE_WITH_TIMEOUT(tracker.connectionState(), RideTracker::Connected, 10000);
    QCOMPARE(tracker.connectionText(), QStringLiteral("Connected"));

    // The server goes away: the tracker keeps trying on its own.
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^connection to .* failed")));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^connection to .* failed")));
    server.stop();
    QTRY_COMPARE_WITH_TIMEOUT(tracker.connectionState(), RideTracker::Reconnecting, 10000);
    tracker.stop();
    QCOMPARE(tracker.connectionState(), RideTracker::Disconnected);
}

QTEST_GUILESS_MAIN(tst_RideTracker)
#include "tst_ridetracker.moc"
