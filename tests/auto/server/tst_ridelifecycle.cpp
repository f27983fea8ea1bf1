#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QDateTime>
#include <QElapsedTimer>

#include <memory>

using Omw::EndReason;
using Omw::Server;
using Omw::ServerConfig;
using Omw::Session;
using Omw::SessionManager;

// A ride's states (live, offline, ended) and every transition between them, with the exact
// events followers and the rider see, the periods that drive them, and the manager's signals.
class tst_RideLifecycle : public QObject
{
    Q_OBJECT

private slots:
    void cleanup();

    void dropGoesOfflineAndBackOnline();
    void returnWithinGraceKeepsRide();
    void graceExpiryTerminates();
    void inactivityTerminates();
    void positionRestartsInactivityLimit();
    void maxDurationTerminates();
    void followerSnapshotStates();

private:
    void startServer(ServerConfig config);
    std::unique_ptr<TestClient> connectClient();
    // Sends one valid point with ref `ref` on join_ref "1" and checks the ok reply.
    void sendPoint(TestClient *rider, double latitude, const QString &ref);

    std::unique_ptr<Server> m_server;
};

static const QString trackingTopic = QStringLiteral("tracking:brave-otter");
static const QString followingTopic = QStringLiteral("following:brave-otter");

// QTimer's default coarse timers may fire up to 5% early.
static qint64 earliest(qint64 period)
{
    return period * 95 / 100;
}

void tst_RideLifecycle::cleanup()
{
    m_server.reset();
}

void tst_RideLifecycle::startServer(ServerConfig config)
{
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

std::unique_ptr<TestClient> tst_RideLifecycle::connectClient()
{
    auto client = std::make_unique<TestClient>();
    if (!client->open(m_server->serverPort())) {
        qWarning() << "cannot connect to the server on port" << m_server->serverPort();
    }
    return client;
}

void tst_RideLifecycle::sendPoint(TestClient *rider, double latitude, const QString &ref)
{
    rider->send("1", ref, trackingTopic, QStringLiteral("NEW_COORDS"),
                QJsonObject {{"latitude", latitude}, {"longitude", 8.4}, {"speed", 5}});
    QCOMPARE(rider->next(),
             QJsonValue(QJsonArray {"1", ref, trackingTopic, "phx_reply",
                                    QJsonObject {{"status", "ok"}, {"response", QJsonObject()}}}));
}

static QJsonValue broadcast(const QString &event, const QJsonObject &payload = QJsonObject())
{
    return QJsonArray {QJsonValue::Null, QJsonValue::Null, followingTopic, event, payload};
}

void tst_RideLifecycle::dropGoesOfflineAndBackOnline()
{
    startServer(ServerConfig());
    SessionManager *manager = m_server->sessions();
    QSignalSpy created(manager, &SessionManager::sessionCreated);
    QSignalSpy ended(manager, &SessionManager::sessionEnded);
    auto follower = connectClient();
    auto rider = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    rider->join(trackingTopic, QStringLiteral("1"));
    QCOMPARE(created.count(), 1);
    auto *session = created.at(0).at(0).value<Session *>();
    QCOMPARE(session->slug(), QStringLiteral("brave-otter"));
    sendPoint(rider.get(), 48.2, QStringLiteral("2"));
    QCOMPARE(follower->next()[3], QJsonValue("NEW_COORDS"));

    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    rider->socket().abort();
    const QJsonArray offline = follower->next().toArray();
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(offline.at(3), QJsonValue("RIDER_OFFLINE"));
    const qint64 since = qint64(offline.at(4)[QStringLiteral("since")].toDouble());
    QCOMPARE(QJsonValue(offline),
             broadcast("RIDER_OFFLINE", QJsonObject {{"since", double(since)}}));
    QVERIFY(since >= before);
    QVERIFY(since <= after);
    QCOMPARE(session->state(), Session::State::Offline);
    QCOMPARE(session->offlineSince(), since);
    QCOMPARE(manager->sessionCount(Session::State::Offline), 1);
    QCOMPARE(manager->sessionCount(Session::State::Live), 0);

    // The rider comes back on a new connection: the ride it finds has a position, so it is live.
    auto returned = connectClient();
    QCOMPARE(
        returned->join(trackingTopic, QStringLiteral("1")),
        json(R"({"status":"ok","response":{"slug":"brave-otter","state":"live"}})").toObject());
    QCOMPARE(follower->next(), broadcast("RIDER_ONLINE"));
    QCOMPARE(session->state(), Session::State::Live);
    QCOMPARE(manager->sessionCount(Session::State::Live), 1);
    sendPoint(returned.get(), 48.3, QStringLiteral("2"));
    QCOMPARE(follower->next()[4][QStringLiteral("latitude")], QJsonValue(48.3));
    QCOMPARE(follower->unread(), 0);
    QCOMPARE(created.count(), 1);
    QCOMPARE(ended.count(), 0);
}

void tst_RideLifecycle::returnWithinGraceKeepsRide()
{
    ServerConfig config;
    config.riderGrace = 200;
    startServer(config);
    QSignalSpy ended(m_server->sessions(), &SessionManager::sessionEnded);
    auto follower = connectClient();
    auto rider = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    rider->join(trackingTopic, QStringLiteral("1"));
    rider->socket().abort();
    QCOMPARE(follower->next()[3], QJsonValue("RIDER_OFFLINE"));
    auto returned = connectClient();
    QCOMPARE(
        returned->join(trackingTopic, QStringLiteral("1")),
        json(R"({"status":"ok","response":{"slug":"brave-otter","state":"waiting"}})").toObject());
    QCOMPARE(follower->next(), broadcast("RIDER_ONLINE"));

    // Waits past the grace period: the timer was stopped, so nothing more arrives.
    QTest::qWait(int(config.riderGrace) + 100);
    QCOMPARE(follower->unread(), 0);
    QCOMPARE(ended.count(), 0);
    QCOMPARE(m_server->sessions()->sessionCount(Session::State::Live), 1);
}

void tst_RideLifecycle::graceExpiryTerminates()
{
    ServerConfig config;
    config.riderGrace = 200;
    startServer(config);
    SessionManager *manager = m_server->sessions();
    QSignalSpy ended(manager, &SessionManager::sessionEnded);
    auto follower = connectClient();
    auto rider = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    rider->join(trackingTopic, QStringLiteral("1"));

    rider->socket().abort();
    QCOMPARE(follower->next()[3], QJsonValue("RIDER_OFFLINE"));
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(follower->next(), broadcast("TERMINATED"));
    QVERIFY2(timer.elapsed() >= earliest(config.riderGrace) - 20,
             qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("brave-otter"));
    QCOMPARE(ended.at(0).at(1).value<EndReason>(), EndReason::GraceExpired);
    QCOMPARE(manager->sessionCount(), 0);
    QCOMPARE(manager->session(QStringLiteral("brave-otter")), nullptr);
    QCOMPARE(follower->unread(), 0);
}

void tst_RideLifecycle::inactivityTerminates()
{
    ServerConfig config;
    config.inactivityTimeout = 300;
    startServer(config);
    QSignalSpy ended(m_server->sessions(), &SessionManager::sessionEnded);
    auto follower = connectClient();
    auto rider = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    rider->join(trackingTopic, QStringLiteral("1"));
    QElapsedTimer timer;
    timer.start();
    sendPoint(rider.get(), 48.2, QStringLiteral("2"));
    QCOMPARE(follower->next()[3], QJsonValue("NEW_COORDS"));

    QCOMPARE(follower->next(), broadcast("TERMINATED"));
    QVERIFY2(timer.elapsed() >= earliest(config.inactivityTimeout),
             qPrintable(QString::number(timer.elapsed())));
    // The rider is still connected: the server closes its channel.
    QCOMPARE(rider->next(), json(R"(["1","1","tracking:brave-otter","phx_close",{}])"));
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(1).value<EndReason>(), EndReason::Inactivity);
    QCOMPARE(m_server->sessions()->sessionCount(), 0);

    // The channel is gone: a late point gets the reply for a topic that is not joined.
    rider->send("1", "3", trackingTopic, QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.3,"longitude":8.4})"));
    QCOMPARE(
        rider->next(),
        json(
            R"([null,"3","tracking:brave-otter","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}])"));
    QCOMPARE(rider->socket().state(), QAbstractSocket::ConnectedState);
}

void tst_RideLifecycle::positionRestartsInactivityLimit()
{
    ServerConfig config;
    config.inactivityTimeout = 400;
    startServer(config);
    auto follower = connectClient();
    auto rider = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    rider->join(trackingTopic, QStringLiteral("1"));
    sendPoint(rider.get(), 48.2, QStringLiteral("2"));
    // Half the limit passes before the next point, which the limit then counts from.
    QTest::qWait(200);
    QElapsedTimer timer;
    timer.start();
    sendPoint(rider.get(), 48.3, QStringLiteral("3"));
    QCOMPARE(follower->next()[3], QJsonValue("NEW_COORDS"));
    QCOMPARE(follower->next()[3], QJsonValue("NEW_COORDS"));
    QCOMPARE(follower->next(), broadcast("TERMINATED"));
    QVERIFY2(timer.elapsed() >= earliest(config.inactivityTimeout),
             qPrintable(QString::number(timer.elapsed())));
}

void tst_RideLifecycle::maxDurationTerminates()
{
    ServerConfig config;
    config.maxRideDuration = 300;
    startServer(config);
    QSignalSpy ended(m_server->sessions(), &SessionManager::sessionEnded);
    auto follower = connectClient();
    auto rider = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    QElapsedTimer timer;
    timer.start();
    rider->join(trackingTopic, QStringLiteral("1"));
    sendPoint(rider.get(), 48.2, QStringLiteral("2"));
    QCOMPARE(follower->next()[3], QJsonValue("NEW_COORDS"));

    QCOMPARE(follower->next(), broadcast("TERMINATED"));
    QVERIFY2(timer.elapsed() >= earliest(config.maxRideDuration),
             qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(rider->next(), json(R"(["1","1","tracking:brave-otter","phx_close",{}])"));
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("brave-otter"));
    QCOMPARE(ended.at(0).at(1).value<EndReason>(), EndReason::MaxDuration);
    QCOMPARE(m_server->sessions()->sessionCount(), 0);
}

void tst_RideLifecycle::followerSnapshotStates()
{
    ServerConfig config;
    config.trailLength = 3;
    startServer(config);
    auto snapshotOf = [this](const QString &joinRef) {
        auto client = connectClient();
        return client->join(followingTopic, joinRef);
    };
    auto expected = [](const QString &state, const QJsonValue &last, const QJsonArray &trail) {
        return QJsonObject {
            {"status", "ok"},
            {"response",
             QJsonObject {
                 {"slug", "brave-otter"}, {"state", state}, {"last", last}, {"trail", trail}}}};
    };
    const QJsonValue null(QJsonValue::Null);

    // No such ride.
    QCOMPARE(snapshotOf(QStringLiteral("1")), expected("waiting", null, QJsonArray()));

    // A ride without a fix looks the same.
    auto follower = connectClient();
    follower->join(followingTopic, QStringLiteral("1"));
    auto rider = connectClient();
    rider->join(trackingTopic, QStringLiteral("1"));
    QCOMPARE(snapshotOf(QStringLiteral("2")), expected("waiting", null, QJsonArray()));

    // Five points: the trail keeps the newest three, in time order.
    QJsonArray broadcasts;
    for (int i = 0; i < 5; ++i) {
        sendPoint(rider.get(), 48.0 + i / 10.0, QString::number(i + 2));
        broadcasts.append(follower->next()[4]);
    }
    const QJsonArray trail {broadcasts.at(2), broadcasts.at(3), broadcasts.at(4)};
    QCOMPARE(snapshotOf(QStringLiteral("3")), expected("live", broadcasts.at(4), trail));

    rider->socket().abort();
    QCOMPARE(follower->next()[3], QJsonValue("RIDER_OFFLINE"));
    QCOMPARE(snapshotOf(QStringLiteral("4")), expected("offline", broadcasts.at(4), trail));

    auto returned = connectClient();
    returned->join(trackingTopic, QStringLiteral("1"));
    QCOMPARE(follower->next()[3], QJsonValue("RIDER_ONLINE"));
    QCOMPARE(snapshotOf(QStringLiteral("5")), expected("live", broadcasts.at(4), trail));

    returned->send("1", "9", trackingTopic, QStringLiteral("phx_leave"));
    QCOMPARE(follower->next(), broadcast("TERMINATED"));
    QCOMPARE(snapshotOf(QStringLiteral("6")), expected("ended", broadcasts.at(4), trail));
}

QTEST_GUILESS_MAIN(tst_RideLifecycle)
#include "tst_ridelifecycle.moc"
