#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <memory>

using Omw::EndReason;
using Omw::Server;
using Omw::ServerConfig;
using Omw::Session;
using Omw::SessionManager;

// The session manager as the one registry of rides: what it creates, indexes and removes, seen
// through its signals while real clients drive it.
class tst_SessionManager : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void joinCreatesSession();
    void leaveRemovesSession();
    void dropKeepsSessionUntilGraceExpires();
    void positionChangedSignal();
    void reservationsAreUnique();
    void createRideReturnsToken();
    void reservationCapPerAddress();

private:
    std::unique_ptr<Server> m_server;
};

void tst_SessionManager::init()
{
    ServerConfig config;
    config.port = 0;
    config.riderGrace = 300;
    config.maxReservationsPerAddress = 100;
    m_server = std::make_unique<Server>(config);
    QVERIFY(m_server->listen());
}

void tst_SessionManager::cleanup()
{
    m_server.reset();
}

void tst_SessionManager::joinCreatesSession()
{
    SessionManager *manager = m_server->sessions();
    QSignalSpy created(manager, &SessionManager::sessionCreated);
    TestClient rider;
    QVERIFY(rider.open(m_server->serverPort()));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QCOMPARE(created.count(), 1);
    auto *session = created.at(0).at(0).value<Session *>();
    QVERIFY(session);
    QCOMPARE(session->slug(), QStringLiteral("brave-otter"));
    QCOMPARE(session->state(), Session::State::Live);
    QCOMPARE(manager->session(QStringLiteral("brave-otter")), session);
    QCOMPARE(manager->sessionCount(), 1);
    QCOMPARE(manager->sessionCount(Session::State::Live), 1);
}

void tst_SessionManager::leaveRemovesSession()
{
    SessionManager *manager = m_server->sessions();
    QSignalSpy created(manager, &SessionManager::sessionCreated);
    QSignalSpy ended(manager, &SessionManager::sessionEnded);
    TestClient rider;
    QVERIFY(rider.open(m_server->serverPort()));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QPointer<Session> session = created.at(0).at(0).value<Session *>();
    QSignalSpy sessionEnded(session.data(), &Session::ended);

    rider.send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("phx_leave"));
    QTRY_COMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("brave-otter"));
    QCOMPARE(ended.at(0).at(1).value<EndReason>(), EndReason::RiderLeft);
    QCOMPARE(sessionEnded.count(), 1);
    QCOMPARE(manager->session(QStringLiteral("brave-otter")), nullptr);
    QCOMPARE(manager->sessionCount(), 0);
    // The session object is deleted once control returns to the event loop.
    QTRY_VERIFY(session.isNull());
}

void tst_SessionManager::dropKeepsSessionUntilGraceExpires()
{
    SessionManager *manager = m_server->sessions();
    QSignalSpy ended(manager, &SessionManager::sessionEnded);
    auto rider = std::make_unique<TestClient>();
    QVERIFY(rider->open(m_server->serverPort()));
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    Session *session = manager->session(QStringLiteral("brave-otter"));
    QVERIFY(session);
    QSignalSpy stateChanged(session, &Session::stateChanged);

    rider->socket().abort();
    QTRY_COMPARE(stateChanged.count(), 1);
    QCOMPARE(stateChanged.at(0).at(0).value<Session::State>(), Session::State::Offline);
    QCOMPARE(manager->sessionCount(Session::State::Offline), 1);
    QCOMPARE(ended.count(), 0);

    QVERIFY(ended.wait(2000));
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(1).value<EndReason>(), EndReason::GraceExpired);
    QCOMPARE(manager->sessionCount(), 0);
}

void tst_SessionManager::positionChangedSignal()
{
    TestClient rider;
    QVERIFY(rider.open(m_server->serverPort()));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    Session *session = m_server->sessions()->session(QStringLiteral("brave-otter"));
    QSignalSpy positionChanged(session, &Session::positionChanged);
    rider.send(
        "1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
        json(R"({"latitude":45.27,"longitude":13.71,"speed":12.5,"heading":-1,"accuracy":4})"));
    QCOMPARE(rider.next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(positionChanged.count(), 1);
    const auto position = positionChanged.at(0).at(0).value<Omw::Position>();
    QCOMPARE(position.latitude, 45.27);
    QCOMPARE(position.longitude, 13.71);
    QCOMPARE(position.speed, 12.5);
    QVERIFY(!position.hasHeading());
    QCOMPARE(position.accuracy, 4.0);
    QVERIFY(!position.hasAltitude());
    // The same point again is acknowledged but changes nothing.
    rider.send(
        "1", "3", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
        json(
            R"({"latitude":45.27,"longitude":13.71,"speed":12.5,"heading":-1,"accuracy":4,"timestamp":null})"));
    QCOMPARE(rider.next()[4][QStringLiteral("status")], QJsonValue("ok"));
    // Neither point has a device time, so the server stamps both on receipt; they are still
    // the same fix.
    QCOMPARE(positionChanged.count(), 1);
}

void tst_SessionManager::reservationsAreUnique()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.join(QStringLiteral("onboarding"), QStringLiteral("1"));
    QSet<QString> names;
    for (int i = 0; i < 50; ++i) {
        client.send("1", QString::number(i + 2), QStringLiteral("onboarding"),
                    QStringLiteral("GENERATE_NEW_SESSION_NAME"));
        names.insert(client.next()[4][QStringLiteral("response")].toString());
    }
    QCOMPARE(names.size(), 50);
    QCOMPARE(m_server->sessions()->reservationCount(), 50);
    QCOMPARE(m_server->sessions()->sessionCount(), 0);
}

void tst_SessionManager::createRideReturnsToken()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client.send("1", "2", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    const QJsonObject response = client.next()[4][QStringLiteral("response")].toObject();
    QCOMPARE(response.keys(), QStringList({"slug", "token"}));
    const QString token = response.value(QStringLiteral("token")).toString();
    // 128 bits in unpadded base64url are 22 characters.
    QCOMPARE(token.size(), 22);
    QVERIFY(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]{22}$")).match(token).hasMatch());
    QCOMPARE(m_server->sessions()->reservationCount(), 1);
}

void tst_SessionManager::reservationCapPerAddress()
{
    ServerConfig config;
    config.port = 0;
    config.maxReservationsPerAddress = 3;
    m_server = std::make_unique<Server>(config);
    QVERIFY(m_server->listen());
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.join(QStringLiteral("onboarding"), QStringLiteral("1"));
    QStringList names;
    for (int i = 0; i < 3; ++i) {
        client.send("1", QString::number(i + 2), QStringLiteral("onboarding"),
                    i == 2 ? QStringLiteral("CREATE_SESSION")
                           : QStringLiteral("GENERATE_NEW_SESSION_NAME"));
        const QJsonObject reply = client.next()[4].toObject();
        QCOMPARE(reply.value(QStringLiteral("status")), QJsonValue("ok"));
        const QJsonValue response = reply.value(QStringLiteral("response"));
        names.append(response.isObject() ? response[QStringLiteral("slug")].toString()
                                         : response.toString());
    }
    client.send("1", "5", QStringLiteral("onboarding"),
                QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QCOMPARE(
        client.next(),
        json(
            R"(["1","5","onboarding","phx_reply",{"status":"error","response":{"reason":"too_many_reservations","message":"this address holds 3 ride names that no rider has joined yet: join one, or wait for them to expire"}}])"));

    // Claiming a name frees its place.
    TestClient rider;
    QVERIFY(rider.open(m_server->serverPort()));
    QCOMPARE(rider.join(QStringLiteral("tracking:") + names.first(), QStringLiteral("1"))
                 .value(QStringLiteral("status")),
             QJsonValue("ok"));
    client.send("1", "6", QStringLiteral("onboarding"),
                QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QCOMPARE(client.next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(m_server->sessions()->reservationCount(), 3);
}

QTEST_GUILESS_MAIN(tst_SessionManager)
#include "tst_sessionmanager.moc"
