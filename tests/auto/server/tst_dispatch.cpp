#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QDateTime>
#include <QFile>
#include <QTemporaryDir>

#include <algorithm>
#include <memory>

using Omw::Server;
using Omw::ServerConfig;
using Omw::Session;

// The dispatch topic of the console: the token check, the snapshot of every ride, and the
// stream of every ride's events, each carrying its slug.
class tst_Dispatch : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void disabledWithoutTokenFile();
    void rejectedWithoutRightToken_data();
    void rejectedWithoutRightToken();
    void snapshotOfLiveAndOfflineRides();
    void streamOfRideEvents();
    void unknownEventKeepsChannel();

private:
    void startServer(ServerConfig config);
    std::unique_ptr<TestClient> connectClient();

    QTemporaryDir m_dir;
    QString m_tokenFile;
    std::unique_ptr<Server> m_server;
};

static const QString dispatchToken = QStringLiteral("s3cret-dispatch-token");

void tst_Dispatch::init()
{
    QVERIFY(m_dir.isValid());
    m_tokenFile = m_dir.filePath(QStringLiteral("dispatch-token"));
    QFile file(m_tokenFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    // A trailing newline, as editors and `echo` write it, is not part of the token.
    file.write(dispatchToken.toUtf8() + '\n');
}

void tst_Dispatch::cleanup()
{
    m_server.reset();
}

void tst_Dispatch::startServer(ServerConfig config)
{
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

std::unique_ptr<TestClient> tst_Dispatch::connectClient()
{
    auto client = std::make_unique<TestClient>();
    if (!client->open(m_server->serverPort())) {
        qWarning() << "cannot connect to the server on port" << m_server->serverPort();
    }
    return client;
}

static QJsonObject errorResponse(const QString &reason, const QString &message)
{
    return QJsonObject {{"status", "error"},
                        {"response", QJsonObject {{"reason", reason}, {"message", message}}}};
}

static QJsonValue dispatchEvent(const QString &event, const QJsonObject &payload)
{
    return QJsonArray {QJsonValue::Null, QJsonValue::Null, "dispatch", event, payload};
}

void tst_Dispatch::disabledWithoutTokenFile()
{
    startServer(ServerConfig());
    QVERIFY(!m_server->sessions()->isDispatchEnabled());
    auto console = connectClient();
    QCOMPARE(console->join(QStringLiteral("dispatch"), QStringLiteral("1"),
                           QJsonObject {{"token", dispatchToken}}),
             errorResponse("unauthorized",
                           "dispatch is disabled on this server: it has no "
                           "dispatcher token (--dispatch-token-file)"));
}

void tst_Dispatch::rejectedWithoutRightToken_data()
{
    QTest::addColumn<QJsonObject>("params");
    QTest::newRow("no token") << QJsonObject();
    QTest::newRow("wrong token") << QJsonObject {{"token", "s3cret-dispatch-tokeN"}};
    QTest::newRow("token with newline") << QJsonObject {{"token", QString(dispatchToken + "\n")}};
    QTest::newRow("empty token") << QJsonObject {{"token", ""}};
    QTest::newRow("number") << QJsonObject {{"token", 42}};
}

void tst_Dispatch::rejectedWithoutRightToken()
{
    QFETCH(QJsonObject, params);
    ServerConfig config;
    config.dispatchTokenFile = m_tokenFile;
    startServer(config);
    QVERIFY(m_server->sessions()->isDispatchEnabled());
    auto console = connectClient();
    QCOMPARE(console->join(QStringLiteral("dispatch"), QStringLiteral("1"), params),
             errorResponse("unauthorized",
                           "join dispatch with the params {\"token\": ...} "
                           "holding the server's dispatcher token"));
    // Not joined: a ride starting now sends it nothing.
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QCOMPARE(console->unread(), 0);
}

void tst_Dispatch::snapshotOfLiveAndOfflineRides()
{
    ServerConfig config;
    config.dispatchTokenFile = m_tokenFile;
    startServer(config);

    // ride-a is live with a fix, ride-b went offline, and ride-c is live without a fix. A reserved
    // name is no ride.
    auto riderA = connectClient();
    riderA->join(QStringLiteral("tracking:ride-a"), QStringLiteral("1"));
    riderA->send("1", "2", QStringLiteral("tracking:ride-a"), QStringLiteral("NEW_COORDS"),
                 json(R"({"latitude":48.2,"longitude":8.4,"speed":3,"heading":10})"));
    QCOMPARE(riderA->next()[4]["status"], QJsonValue("ok"));
    auto riderB = connectClient();
    riderB->join(QStringLiteral("tracking:ride-b"), QStringLiteral("1"));
    riderB->send("1", "2", QStringLiteral("tracking:ride-b"), QStringLiteral("NEW_COORDS"),
                 json(R"({"latitude":-33.9,"longitude":151.2})"));
    QCOMPARE(riderB->next()[4]["status"], QJsonValue("ok"));
    riderB->socket().abort();
    QTRY_COMPARE(m_server->sessions()->sessionCount(Session::State::Offline), 1);
    auto riderC = connectClient();
    riderC->join(QStringLiteral("tracking:ride-c"), QStringLiteral("1"));
    riderC->join(QStringLiteral("onboarding"), QStringLiteral("2"));
    riderC->send("2", "3", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    QCOMPARE(riderC->next()[4]["status"], QJsonValue("ok"));

    // The console sees each ride as a follower would.
    QJsonArray expected;
    auto follower = connectClient();
    for (const QString slug : {"ride-a", "ride-b", "ride-c"}) {
        expected.append(
            follower->join(QStringLiteral("following:") + slug, slug)[QStringLiteral("response")]);
    }
    QCOMPARE(expected.at(0)["state"], QJsonValue("live"));
    QCOMPARE(expected.at(1)["state"], QJsonValue("offline"));
    QCOMPARE(expected.at(2)["state"], QJsonValue("waiting"));

    auto console = connectClient();
    const QJsonObject reply = console->join(QStringLiteral("dispatch"), QStringLiteral("1"),
                                            QJsonObject {{"token", dispatchToken}});
    QCOMPARE(reply.value("status"), QJsonValue("ok"));
    const QJsonObject response = reply.value("response").toObject();
    QCOMPARE(response.keys(), QStringList({"rides"}));
    // The rides come in no particular order.
    QJsonArray rides = response.value("rides").toArray();
    QVariantList sorted = rides.toVariantList();
    std::sort(sorted.begin(), sorted.end(), [](const QVariant &a, const QVariant &b) {
        return a.toMap().value("slug").toString() < b.toMap().value("slug").toString();
    });
    QCOMPARE(QJsonArray::fromVariantList(sorted), expected);
}

void tst_Dispatch::streamOfRideEvents()
{
    ServerConfig config;
    config.dispatchTokenFile = m_tokenFile;
    startServer(config);
    auto console = connectClient();
    QCOMPARE(console->join(QStringLiteral("dispatch"), QStringLiteral("1"),
                           QJsonObject {{"token", dispatchToken}}),
             json(R"({"status":"ok","response":{"rides":[]}})").toObject());
    auto follower = connectClient();
    follower->join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));

    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QCOMPARE(console->next(), dispatchEvent("SESSION_STARTED", {{"slug", "brave-otter"}}));

    rider->send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.2,"longitude":8.4,"speed":3,"heading":10,"accuracy":5})"));
    QCOMPARE(rider->next()[4]["status"], QJsonValue("ok"));
    // The same payload as the followers', which already carries the slug.
    const QJsonObject point = follower->next()[4].toObject();
    QCOMPARE(point.value("slug"), QJsonValue("brave-otter"));
    QCOMPARE(console->next(), dispatchEvent("NEW_COORDS", point));

    rider->socket().abort();
    const QJsonObject offline = follower->next()[4].toObject();
    QCOMPARE(console->next(),
             dispatchEvent("RIDER_OFFLINE",
                           {{"since", offline.value("since")}, {"slug", "brave-otter"}}));

    auto returned = connectClient();
    returned->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QCOMPARE(console->next(), dispatchEvent("RIDER_ONLINE", {{"slug", "brave-otter"}}));

    returned->send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("phx_leave"));
    QCOMPARE(console->next(), dispatchEvent("TERMINATED", {{"slug", "brave-otter"}}));
    QCOMPARE(console->unread(), 0);

    // After leaving, the console receives nothing more.
    console->send("1", "3", QStringLiteral("dispatch"), QStringLiteral("phx_leave"));
    QCOMPARE(console->next()[4]["status"], QJsonValue("ok"));
    QCOMPARE(console->next(), json(R"(["1","1","dispatch","phx_close",{}])"));
    auto another = connectClient();
    another->join(QStringLiteral("tracking:ride-b"), QStringLiteral("1"));
    another->send("1", "2", QStringLiteral("tracking:ride-b"), QStringLiteral("NEW_COORDS"),
                  json(R"({"latitude":1,"longitude":2})"));
    QCOMPARE(another->next()[4]["status"], QJsonValue("ok"));
    QCOMPARE(console->unread(), 0);
}

void tst_Dispatch::unknownEventKeepsChannel()
{
    ServerConfig config;
    config.dispatchTokenFile = m_tokenFile;
    startServer(config);
    auto console = connectClient();
    console->join(QStringLiteral("dispatch"), QStringLiteral("1"),
                  QJsonObject {{"token", dispatchToken}});
    console->send("1", "2", QStringLiteral("dispatch"), QStringLiteral("PING"));
    QCOMPARE(console->next(),
             QJsonValue(QJsonArray {
                 "1", "2", "dispatch", "phx_reply",
                 errorResponse(
                     "unknown_event",
                     R"(event "PING" is not handled on dispatch: this channel only receives)")}));
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QCOMPARE(console->next(), dispatchEvent("SESSION_STARTED", {{"slug", "brave-otter"}}));
}

QTEST_GUILESS_MAIN(tst_Dispatch)
#include "tst_dispatch.moc"
