#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QNetworkRequest>
#include <QProcess>
#include <QSslError>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;
using Omw::Session;

// Every limit of the server, at and just over its value, and what it leaves alone: channels per
// connection, message rate, connections, rides, followers, follow joins, unknown events, Origin,
// slow followers, and TLS.
class tst_Limits : public QObject
{
    Q_OBJECT

private slots:
    void cleanup();

    void tooManyChannels();
    void defaultChannelCap();
    void messageRate();
    void floodLeavesOthersAlone();
    void maxConnections();
    void maxRides();
    void maxRidesPerAddress();
    void maxReservedNames();
    void endedRidesDoNotCountAsReservedNames();
    void maxReservationsPerAddress();
    void maxFollowers();
    void followJoinRateForRidesNotLive();
    void followJoinsOfLiveRidesTakeNoAllowance();
    void rideNameValidated_data();
    void rideNameValidated();
    void trustedProxyForwardsClientAddress_data();
    void trustedProxyForwardsClientAddress();
    void unknownEventKeepsChannel_data();
    void unknownEventKeepsChannel();
    void originAllowList();
    void slowFollowerDisconnected();
    void tlsWebSocket();
    void tlsMissingFiles();

private:
    void startServer(ServerConfig config = ServerConfig());
    std::unique_ptr<TestClient> connectClient();
    QByteArray httpRequest(const QByteArray &request);

    std::unique_ptr<Server> m_server;
};

static QJsonObject errorResponse(const QString &reason, const QString &message)
{
    return QJsonObject {{"status", "error"},
                        {"response", QJsonObject {{"reason", reason}, {"message", message}}}};
}

static QByteArray upgradeRequest(const QByteArray &extraHeaders = QByteArray())
{
    return "GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + extraHeaders + "\r\n";
}

static QJsonObject bodyOf(const QByteArray &response)
{
    return QJsonDocument::fromJson(response.mid(response.indexOf("\r\n\r\n") + 4)).object();
}

void tst_Limits::cleanup()
{
    m_server.reset();
}

void tst_Limits::startServer(ServerConfig config)
{
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

std::unique_ptr<TestClient> tst_Limits::connectClient()
{
    auto client = std::make_unique<TestClient>();
    if (!client->open(m_server->serverPort())) {
        qWarning() << "cannot connect to the server on port" << m_server->serverPort();
    }
    return client;
}

QByteArray tst_Limits::httpRequest(const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->serverPort());
    if (!socket.waitForConnected(5000)) {
        return QByteArray();
    }
    socket.write(request);
    QByteArray response;
    // The server closes the connection after each response.
    [[maybe_unused]] const bool closed = QTest::qWaitFor(
        [&] {
            response += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        5000);
    return response + socket.readAll();
}

void tst_Limits::tooManyChannels()
{
    ServerConfig config;
    config.maxChannels = 3;
    startServer(config);
    auto client = connectClient();
    QCOMPARE(client->join(QStringLiteral("onboarding"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    QCOMPARE(client->join(QStringLiteral("following:ride-a"), QStringLiteral("2"))["status"],
             QJsonValue("ok"));
    QCOMPARE(client->join(QStringLiteral("following:ride-b"), QStringLiteral("3"))["status"],
             QJsonValue("ok"));
    client->send("4", "4", QStringLiteral("following:ride-c"), QStringLiteral("phx_join"));
    QCOMPARE(client->next(),
             QJsonValue(QJsonArray {"4", "4", "following:ride-c", "phx_reply",
                                    errorResponse("too many channels joined",
                                                  "at most 3 channels per connection: leave "
                                                  "one first")}));
    QCOMPARE(m_server->sessions()->followerCount(QStringLiteral("ride-c")), 0);

    // Joining a joined topic again adds no channel, so it passes at the cap.
    client->send("5", "5", QStringLiteral("onboarding"), QStringLiteral("phx_join"));
    QCOMPARE(client->next()[4]["status"], QJsonValue("ok"));
    QCOMPARE(client->next(), json(R"(["1","1","onboarding","phx_close",{}])"));

    client->send("2", "6", QStringLiteral("following:ride-a"), QStringLiteral("phx_leave"));
    QCOMPARE(client->next()[4]["status"], QJsonValue("ok"));
    QCOMPARE(client->next(), json(R"(["2","2","following:ride-a","phx_close",{}])"));
    QCOMPARE(client->join(QStringLiteral("following:ride-c"), QStringLiteral("7"))["status"],
             QJsonValue("ok"));
}

void tst_Limits::defaultChannelCap()
{
    // The default of 100, with tracking topics: follow joins of rides that are not live would
    // hit their own rate limit first.
    startServer();
    auto client = connectClient();
    for (int i = 1; i <= 100; ++i) {
        client->send(QString::number(i), QString::number(i),
                     QStringLiteral("tracking:ride-%1").arg(i), QStringLiteral("phx_join"));
    }
    for (int i = 1; i <= 100; ++i) {
        QCOMPARE(client->next()[4]["status"], QJsonValue("ok"));
    }
    QCOMPARE(client->join(QStringLiteral("tracking:ride-101"), QStringLiteral("101")),
             errorResponse("too many channels joined",
                           "at most 100 channels per connection: leave one first"));
    QCOMPARE(m_server->sessions()->sessionCount(), 100);
}

void tst_Limits::messageRate()
{
    ServerConfig config;
    config.messageRate = 1;
    config.messageBurst = 5;
    startServer(config);
    auto client = connectClient();
    // One token refills per second, so the few milliseconds these frames take change nothing.
    for (int ref = 1; ref <= 11; ++ref) {
        client->sendText(
            QStringLiteral(R"([null,"%1","phoenix","heartbeat",{}])").arg(ref).toUtf8());
    }
    // The burst passes.
    for (int ref = 1; ref <= 5; ++ref) {
        QCOMPARE(client->next(),
                 QJsonValue(QJsonArray {QJsonValue::Null, QString::number(ref), "phoenix",
                                        "phx_reply", json(R"({"status":"ok","response":{}})")}));
    }
    // The next messages are dropped with rate_limited, up to as many again.
    for (int ref = 6; ref <= 10; ++ref) {
        QCOMPARE(client->next(),
                 QJsonValue(QJsonArray {
                     QJsonValue::Null, QString::number(ref), "phoenix", "phx_reply",
                     errorResponse("rate_limited",
                                   "more than 1 messages per second on this connection; this "
                                   "message was dropped: slow down")}));
    }
    // Over twice the rate the connection is closed.
    QVERIFY(client->waitForDisconnect());
    QCOMPARE(client->socket().closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
    QCOMPARE(client->socket().closeReason(), QStringLiteral("message rate exceeded"));
    QCOMPARE(client->unread(), 0);
    QCOMPARE(m_server->metrics().messagesRateLimited, quint64(6));
    QCOMPARE(m_server->metrics().heartbeats, quint64(5));
}

void tst_Limits::floodLeavesOthersAlone()
{
    ServerConfig config;
    config.messageRate = 1;
    config.messageBurst = 2;
    startServer(config);
    auto follower = connectClient();
    auto rider = connectClient();
    auto flooder = connectClient();
    follower->join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    flooder->join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    for (int i = 0; i < 50; ++i) {
        flooder->sendText(R"(["1","2","following:brave-otter","PING",{}])");
    }
    QVERIFY(flooder->waitForDisconnect());
    QCOMPARE(flooder->socket().closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);

    rider->send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.2,"longitude":8.4})"));
    QCOMPARE(rider->next()[4]["status"], QJsonValue("ok"));
    QCOMPARE(follower->next()[4]["latitude"], QJsonValue(48.2));
    QTRY_COMPARE(m_server->sessions()->followerCount(QStringLiteral("brave-otter")), 1);
}

void tst_Limits::maxConnections()
{
    ServerConfig config;
    config.maxConnections = 2;
    startServer(config);
    auto first = connectClient();
    auto second = connectClient();
    QCOMPARE(m_server->connectionCount(), 2);

    const QByteArray response = httpRequest(upgradeRequest());
    QVERIFY2(response.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), response.constData());
    QCOMPARE(bodyOf(response),
             QJsonObject({{"status", 503},
                          {"error",
                           "the server is at its maximum of 2 connections; try again "
                           "later"}}));
    QCOMPARE(m_server->metrics().connectionsRejected, quint64(1));

    // Once a connection closes, there is room again.
    first->socket().close();
    QTRY_COMPARE(m_server->connectionCount(), 1);
    auto third = std::make_unique<TestClient>();
    QVERIFY(third->open(m_server->serverPort()));
    QCOMPARE(m_server->connectionCount(), 2);
}

void tst_Limits::maxRides()
{
    ServerConfig config;
    config.maxRides = 1;
    startServer(config);
    auto first = connectClient();
    auto second = connectClient();
    QCOMPARE(first->join(QStringLiteral("tracking:ride-a"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    QCOMPARE(second->join(QStringLiteral("tracking:ride-b"), QStringLiteral("1")),
             errorResponse("too_many_rides",
                           "the server carries its maximum of 1 rides; try again later"));
    QCOMPARE(m_server->sessions()->sessionCount(), 1);

    first->send("1", "2", QStringLiteral("tracking:ride-a"), QStringLiteral("phx_leave"));
    QTRY_COMPARE(m_server->sessions()->sessionCount(), 0);
    QCOMPARE(second->join(QStringLiteral("tracking:ride-b"), QStringLiteral("2"))["status"],
             QJsonValue("ok"));
}

void tst_Limits::maxRidesPerAddress()
{
    ServerConfig config;
    config.maxRidesPerAddress = 2;
    startServer(config);
    auto client = connectClient();
    QCOMPARE(client->join(QStringLiteral("tracking:ride-a"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    QCOMPARE(client->join(QStringLiteral("tracking:ride-b"), QStringLiteral("2"))["status"],
             QJsonValue("ok"));
    QCOMPARE(client->join(QStringLiteral("tracking:ride-c"), QStringLiteral("3")),
             errorResponse("too_many_rides",
                           "this address has started 2 rides that are still live or offline: "
                           "end one first"));
    // An offline ride still counts; an ended one no longer does.
    client->socket().abort();
    QTRY_COMPARE(m_server->sessions()->sessionCount(Session::State::Offline), 2);
    auto again = connectClient();
    QCOMPARE(again->join(QStringLiteral("tracking:ride-c"), QStringLiteral("1")),
             errorResponse("too_many_rides",
                           "this address has started 2 rides that are still live or offline: "
                           "end one first"));
    QCOMPARE(again->join(QStringLiteral("tracking:ride-a"), QStringLiteral("2"))["status"],
             QJsonValue("ok")); // taking an offline ride back starts nothing new
    again->send("2", "3", QStringLiteral("tracking:ride-a"), QStringLiteral("phx_leave"));
    QTRY_COMPARE(m_server->sessions()->sessionCount(), 1);
    QCOMPARE(again->join(QStringLiteral("tracking:ride-c"), QStringLiteral("4"))["status"],
             QJsonValue("ok"));
}

void tst_Limits::maxReservedNames()
{
    ServerConfig config;
    config.maxRides = 1;
    startServer(config);
    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"),
                 QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QVERIFY(client->next()[4]["response"].isString());
    client->send("1", "3", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    QCOMPARE(client->next()[4],
             QJsonValue(errorResponse("too_many_rides",
                                      "the server holds its maximum of 1 unclaimed ride names; "
                                      "try again in a few minutes")));
}

void tst_Limits::endedRidesDoNotCountAsReservedNames()
{
    // An ended ride keeps its name out of use for a while. That is no unclaimed name, so it
    // must not block onboarding.
    ServerConfig config;
    config.maxRides = 1;
    startServer(config);
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:ride-a"), QStringLiteral("1"));
    rider->send("1", "2", QStringLiteral("tracking:ride-a"), QStringLiteral("phx_leave"));
    QTRY_COMPARE(m_server->sessions()->sessionCount(), 0);

    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    QCOMPARE(client->next()[4]["status"], QJsonValue("ok"));
}

void tst_Limits::maxReservationsPerAddress()
{
    ServerConfig config;
    config.maxReservationsPerAddress = 2;
    startServer(config);
    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"),
                 QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    const QString generated = client->next()[4]["response"].toString();
    client->send("1", "3", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    QCOMPARE(client->next()[4]["status"], QJsonValue("ok"));
    const QJsonObject tooMany = errorResponse(
        "too_many_reservations",
        "this address holds 2 ride names that no rider has joined yet: join one, or wait for "
        "them to expire");
    // Another connection from the same address is held to the same count.
    auto other = connectClient();
    other->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    other->send("1", "2", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    QCOMPARE(other->next()[4], QJsonValue(tooMany));
    client->send("1", "4", QStringLiteral("onboarding"),
                 QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QCOMPARE(client->next()[4], QJsonValue(tooMany));

    // A rider claiming a name frees a place.
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:") + generated, QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    client->send("1", "5", QStringLiteral("onboarding"),
                 QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QVERIFY(client->next()[4]["response"].isString());
}

void tst_Limits::maxFollowers()
{
    ServerConfig config;
    config.maxFollowers = 2;
    startServer(config);
    auto first = connectClient();
    auto second = connectClient();
    auto third = connectClient();
    QCOMPARE(first->join(QStringLiteral("following:brave-otter"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    QCOMPARE(second->join(QStringLiteral("following:brave-otter"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    QCOMPARE(
        third->join(QStringLiteral("following:brave-otter"), QStringLiteral("1")),
        errorResponse("too_many_followers", "ride brave-otter has its maximum of 2 followers"));
    QCOMPARE(m_server->sessions()->followerCount(QStringLiteral("brave-otter")), 2);
    // Other rides are not affected.
    QCOMPARE(third->join(QStringLiteral("following:other-ride"), QStringLiteral("2"))["status"],
             QJsonValue("ok"));

    second->socket().close();
    QTRY_COMPARE(m_server->sessions()->followerCount(QStringLiteral("brave-otter")), 1);
    QCOMPARE(third->join(QStringLiteral("following:brave-otter"), QStringLiteral("3"))["status"],
             QJsonValue("ok"));
}

void tst_Limits::followJoinRateForRidesNotLive()
{
    ServerConfig config;
    config.followJoinRate = 0.001;
    config.followJoinBurst = 3;
    startServer(config);
    const QString limited = QStringLiteral(
        "too many follow joins of rides that are not live from this address; at most 0.001 per "
        "second: try again later");

    // A live ride and one that goes offline.
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:live-ride"), QStringLiteral("1"));
    auto dropped = connectClient();
    dropped->join(QStringLiteral("tracking:offline-ride"), QStringLiteral("1"));
    dropped->socket().abort();
    QTRY_COMPARE(m_server->sessions()->sessionCount(Session::State::Offline), 1);

    auto client = connectClient();
    QCOMPARE(client->join(QStringLiteral("following:ride-a"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));
    QCOMPARE(client->join(QStringLiteral("following:ride-b"), QStringLiteral("2"))["status"],
             QJsonValue("ok"));
    QCOMPARE(client->join(QStringLiteral("following:offline-ride"), QStringLiteral("3"))["response"]
                 .toObject()
                 .value("state"),
             QJsonValue("offline"));
    QCOMPARE(client->join(QStringLiteral("following:ride-c"), QStringLiteral("4")),
             errorResponse("rate_limited", limited));
    // The limit is per address, not per connection.
    auto other = connectClient();
    QCOMPARE(other->join(QStringLiteral("following:ride-d"), QStringLiteral("1")),
             errorResponse("rate_limited", limited));
    QCOMPARE(other->join(QStringLiteral("following:offline-ride"), QStringLiteral("2")),
             errorResponse("rate_limited", limited));
    // Once the allowance is used up, live rides are rejected too, so that the answer does not
    // tell a guesser which names are live.
    QCOMPARE(other->join(QStringLiteral("following:live-ride"), QStringLiteral("3")),
             errorResponse("rate_limited", limited));
    QCOMPARE(m_server->metrics().followJoinsRateLimited, quint64(4));
}

void tst_Limits::followJoinsOfLiveRidesTakeNoAllowance()
{
    ServerConfig config;
    config.followJoinRate = 0.001;
    config.followJoinBurst = 1;
    startServer(config);
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:live-ride"), QStringLiteral("1"));

    // Far more joins of the live ride than the allowance, from one address.
    std::vector<std::unique_ptr<TestClient>> followers;
    for (int i = 0; i < 5; ++i) {
        followers.push_back(connectClient());
        QCOMPARE(followers.back()->join(QStringLiteral("following:live-ride"),
                                        QStringLiteral("1"))["status"],
                 QJsonValue("ok"));
    }
    // The one join of a name that is not live still has its allowance.
    QCOMPARE(
        followers.front()->join(QStringLiteral("following:ride-a"), QStringLiteral("2"))["status"],
        QJsonValue("ok"));
    QCOMPARE(m_server->metrics().followJoinsRateLimited, quint64(0));
}

void tst_Limits::trustedProxyForwardsClientAddress_data()
{
    QTest::addColumn<bool>("trusted");
    QTest::newRow("trusted proxy") << true;
    QTest::newRow("untrusted peer") << false;
}

void tst_Limits::trustedProxyForwardsClientAddress()
{
    QFETCH(bool, trusted);
    ServerConfig config;
    config.followJoinRate = 0.001;
    config.followJoinBurst = 1;
    if (trusted) {
        config.trustedProxies = {QHostAddress(QHostAddress::LocalHost)};
    }
    startServer(config);

    // Two clients behind one proxy: the per-address follow-join limit applies to each client
    // when the proxy is trusted, and to the proxy's own address otherwise.
    auto openBehindProxy = [this](QWebSocket *socket, const QByteArray &client) {
        QNetworkRequest request(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/websocket?vsn=2.0.0")
                                         .arg(m_server->serverPort())));
        request.setRawHeader("X-Forwarded-For", "198.51.100.7, " + client);
        QSignalSpy connected(socket, &QWebSocket::connected);
        socket->open(request);
        return connected.wait(5000);
    };
    auto joinReply = [](QWebSocket *socket, const QString &topic) {
        QSignalSpy received(socket, &QWebSocket::textMessageReceived);
        socket->sendTextMessage(QStringLiteral(R"(["1","1","%1","phx_join",{}])").arg(topic));
        if (!received.wait(5000)) {
            return QJsonObject();
        }
        return QJsonDocument::fromJson(received.at(0).at(0).toString().toUtf8())
            .array()
            .at(4)
            .toObject();
    };
    QWebSocket first;
    QWebSocket second;
    QVERIFY(openBehindProxy(&first, "203.0.113.1"));
    QVERIFY(openBehindProxy(&second, "203.0.113.2"));
    QCOMPARE(joinReply(&first, QStringLiteral("following:ride-a"))["status"], QJsonValue("ok"));
    QCOMPARE(joinReply(&second, QStringLiteral("following:ride-b"))["status"],
             QJsonValue(trusted ? "ok" : "error"));
    QCOMPARE(m_server->metrics().followJoinsRateLimited, quint64(trusted ? 0 : 1));
}

void tst_Limits::rideNameValidated_data()
{
    QTest::addColumn<QString>("slug");
    QTest::addColumn<bool>("valid");
    QTest::newRow("two words") << "brave-otter" << true;
    QTest::newRow("one character") << "a" << true;
    QTest::newRow("64 characters") << QString(64, QLatin1Char('a')) << true;
    QTest::newRow("digits and underscore") << "ride_42" << true;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("65 characters") << QString(65, QLatin1Char('a')) << false;
    QTest::newRow("leading dash") << "-brave-otter" << false;
    QTest::newRow("space") << "brave otter" << false;
    QTest::newRow("colon") << "brave:otter" << false;
    QTest::newRow("non-ASCII letter") << QStringLiteral("br\u00e4ve-otter") << false;
    QTest::newRow("trailing newline") << "brave-otter\n" << false;
}

void tst_Limits::rideNameValidated()
{
    QFETCH(QString, slug);
    QFETCH(bool, valid);
    startServer();
    auto client = connectClient();
    for (const QString prefix : {"tracking:", "following:"}) {
        const QJsonObject reply = client->join(prefix + slug, prefix);
        if (valid) {
            QCOMPARE(reply.value("status"), QJsonValue("ok"));
            continue;
        }
        QCOMPARE(reply,
                 errorResponse(
                     "invalid_slug",
                     QStringLiteral("ride name \"%1\" is invalid: expected 1 to 64 "
                                    "letters, digits, '_' or '-', not starting with '-', such as "
                                    "\"brave-otter\"")
                         .arg(slug)));
    }
    QCOMPARE(m_server->sessions()->sessionCount(), valid ? 1 : 0);
}

void tst_Limits::unknownEventKeepsChannel_data()
{
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("message");
    QTest::newRow("onboarding")
        << "onboarding"
        << R"(event "PING" is not handled on onboarding: send GENERATE_NEW_SESSION_NAME or CREATE_SESSION)";
    QTest::newRow("tracking")
        << "tracking:brave-otter"
        << R"(event "PING" is not handled on tracking:brave-otter: send NEW_COORDS)";
    QTest::newRow("following")
        << "following:brave-otter"
        << R"(event "PING" is not handled on following:brave-otter: this channel only receives)";
}

void tst_Limits::unknownEventKeepsChannel()
{
    QFETCH(QString, topic);
    QFETCH(QString, message);
    startServer();
    auto client = connectClient();
    QCOMPARE(client->join(topic, QStringLiteral("1"))["status"], QJsonValue("ok"));
    client->send("1", "2", topic, QStringLiteral("PING"), json(R"({"x":1})"));
    QCOMPARE(client->next(),
             QJsonValue(QJsonArray {"1", "2", topic, "phx_reply",
                                    errorResponse("unknown_event", message)}));

    // Still joined: leaving it closes the channel with its join_ref.
    client->send("1", "3", topic, QStringLiteral("phx_leave"));
    QCOMPARE(client->next(),
             QJsonValue(QJsonArray {"1", "3", topic, "phx_reply",
                                    json(R"({"status":"ok","response":{}})")}));
    QCOMPARE(client->next(), QJsonValue(QJsonArray {"1", "1", topic, "phx_close", QJsonObject()}));
}

void tst_Limits::originAllowList()
{
    ServerConfig config;
    config.allowedOrigins = {QStringLiteral("https://omw.example.org")};
    startServer(config);

    const QByteArray response = httpRequest(upgradeRequest("Origin: https://evil.example.org\r\n"));
    QVERIFY2(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response.constData());
    QCOMPARE(bodyOf(response),
             QJsonObject({{"status", 403},
                          {"error",
                           "Origin https://evil.example.org is not allowed on this "
                           "server"}}));
    QCOMPARE(m_server->connectionCount(), 0);

    QWebSocket allowed(QStringLiteral("https://omw.example.org"));
    QSignalSpy connected(&allowed, &QWebSocket::connected);
    allowed.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/websocket?vsn=2.0.0")
                          .arg(m_server->serverPort())));
    QVERIFY(connected.wait(5000));

    // Apps and tools send no Origin.
    TestClient withoutOrigin;
    QVERIFY(withoutOrigin.open(m_server->serverPort()));
    QCOMPARE(m_server->connectionCount(), 2);
    QCOMPARE(m_server->metrics().connectionsRejected, quint64(1));
}

// Returns a client WebSocket frame: FIN, text opcode, masked as RFC 6455 requires.
static QByteArray maskedTextFrame(const QByteArray &payload)
{
    QByteArray frame;
    frame.append(char(0x81));
    Q_ASSERT(payload.size() < 126); // a 7-bit length only
    frame.append(char(0x80 | payload.size()));
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    frame.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i) {
        frame.append(char(payload.at(i) ^ mask[i % 4]));
    }
    return frame;
}

// Splits server frames (unmasked) off the front of `buffer` and returns them as {opcode,
// payload} pairs.
static QList<std::pair<int, QByteArray>> takeFrames(QByteArray *buffer)
{
    QList<std::pair<int, QByteArray>> frames;
    while (buffer->size() >= 2) {
        const int opcode = buffer->at(0) & 0x0f;
        qint64 length = buffer->at(1) & 0x7f;
        int header = 2;
        if (length == 126) {
            if (buffer->size() < 4) {
                break;
            }
            length = (quint8(buffer->at(2)) << 8) | quint8(buffer->at(3));
            header = 4;
        } else if (length == 127) {
            if (buffer->size() < 10) {
                break;
            }
            length = 0;
            for (int i = 2; i < 10; ++i) {
                length = (length << 8) | quint8(buffer->at(i));
            }
            header = 10;
        }
        if (buffer->size() < header + length) {
            break;
        }
        frames.append({opcode, buffer->mid(header, length)});
        buffer->remove(0, header + length);
    }
    return frames;
}

void tst_Limits::slowFollowerDisconnected()
{
    ServerConfig config;
    config.sendQueueLimit = 16 * 1024;
    config.messageRate = 1e6;
    config.messageBurst = 1'000'000;
    startServer(config);
    // A ride name of the maximum length (64 characters) makes every broadcast larger, so fewer
    // points fill the buffers.
    const QString slug = QStringLiteral("brave-otter-") + QString(52, QLatin1Char('x'));
    const QString topic = QStringLiteral("tracking:") + slug;
    auto rider = connectClient();
    auto follower = connectClient();
    QCOMPARE(rider->join(topic, QStringLiteral("1"))["status"], QJsonValue("ok"));
    QCOMPARE(follower->join(QStringLiteral("following:") + slug, QStringLiteral("1"))["status"],
             QJsonValue("ok"));

    // A follower that stops reading: a small kernel receive buffer, set before connecting so
    // that the TCP window stays small, and a small Qt read buffer, so the socket fills up.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    const int receiveBuffer = 4096;
    QCOMPARE(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer), 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(m_server->serverPort());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QCOMPARE(::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    QTcpSocket slow;
    QVERIFY(slow.setSocketDescriptor(fd));
    slow.setReadBufferSize(1024);
    slow.write(upgradeRequest());
    QByteArray received;
    QTRY_VERIFY((received += slow.readAll()).contains("\r\n\r\n"));
    QVERIFY2(received.startsWith("HTTP/1.1 101 "), received.constData());
    received.remove(0, received.indexOf("\r\n\r\n") + 4);
    slow.write(maskedTextFrame(R"(["1","1","following:)" + slug.toUtf8() + R"(","phx_join",{}])"));
    QTRY_COMPARE(m_server->sessions()->followerCount(slug), 2);

    // Points until their broadcasts overflow the kernel's socket buffers and then the queue
    // limit. Linux lets a send buffer grow to net.ipv4.tcp_wmem's maximum (4 MB by default), so
    // this takes up to 60,000 points. The server and the clients share this thread, so the
    // points go in batches that the other follower reads in full before the next. It stays well
    // under the limit, and receives every point in order.
    constexpr int maxPoints = 60'000;
    constexpr int batch = 100;
    int sent = 0;
    while (m_server->metrics().slowFollowersDisconnected == 0 && sent < maxPoints) {
        for (int i = sent; i < sent + batch; ++i) {
            rider->send("1", QString::number(i + 2), topic, QStringLiteral("NEW_COORDS"),
                        QJsonObject {{"latitude", 10 + i * 0.0001}, {"longitude", 20}});
        }
        QVERIFY(rider->waitForFrames(batch));
        QVERIFY(follower->waitForFrames(batch));
        for (int i = sent; i < sent + batch; ++i) {
            QCOMPARE(rider->next()[4]["status"], QJsonValue("ok"));
            const QJsonValue frame = follower->next();
            QCOMPARE(frame[3], QJsonValue("NEW_COORDS"));
            QCOMPARE(frame[4]["latitude"], QJsonValue(10 + i * 0.0001));
        }
        sent += batch;
    }
    QCOMPARE(m_server->metrics().slowFollowersDisconnected, quint64(1));
    QCOMPARE(follower->unread(), 0);
    QCOMPARE(follower->socket().state(), QAbstractSocket::ConnectedState);

    // Reading again, the slow follower finds the frames sent before it fell behind, then the
    // close frame: 1008 with a reason.
    slow.setReadBufferSize(0);
    std::pair<int, QByteArray> closeFrame {0, QByteArray()};
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            received += slow.readAll();
            for (const auto &frame : takeFrames(&received)) {
                if (frame.first == 0x8) {
                    closeFrame = frame;
                }
            }
            return closeFrame.first == 0x8;
        }(),
        10000);
    QCOMPARE(closeFrame.second.left(2), QByteArray("\x03\xf0", 2));
    QCOMPARE(closeFrame.second.mid(2), QByteArray("too far behind: read faster"));
    slow.abort();
    QTRY_COMPARE(m_server->sessions()->followerCount(slug), 1);
}

void tst_Limits::tlsWebSocket()
{
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    if (openssl.isEmpty()) {
        QSKIP("openssl is not installed, so no test certificate can be made; install the "
              "openssl package to run this test");
    }
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString certificate = dir.filePath(QStringLiteral("cert.pem"));
    const QString key = dir.filePath(QStringLiteral("key.pem"));
    QProcess process;
    process.start(openssl,
                  {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                   certificate, "-days", "1", "-subj", "/CN=127.0.0.1"});
    QVERIFY(process.waitForFinished(30000));
    QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());

    ServerConfig config;
    config.tlsCertificate = certificate;
    config.tlsKey = key;
    startServer(config);
    QCOMPARE(m_server->socketUrl().scheme(), QStringLiteral("wss"));

    QWebSocket socket;
    connect(&socket, &QWebSocket::sslErrors, &socket,
            [&socket](const QList<QSslError> &) { socket.ignoreSslErrors(); });
    QStringList frames;
    connect(&socket, &QWebSocket::textMessageReceived, &socket,
            [&frames](const QString &text) { frames.append(text); });
    QSignalSpy connected(&socket, &QWebSocket::connected);
    socket.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/socket/websocket?vsn=2.0.0")
                         .arg(m_server->serverPort())));
    QVERIFY(connected.wait(10000));
    socket.sendTextMessage(QStringLiteral(R"([null,"1","phoenix","heartbeat",{}])"));
    QTRY_COMPARE(frames.size(), 1);
    QCOMPARE(QJsonDocument::fromJson(frames.at(0).toUtf8()).array(),
             json(R"([null,"1","phoenix","phx_reply",{"status":"ok","response":{}}])").toArray());
    QCOMPARE(m_server->connectionCount(), 1);

    // HTTP shares the port, so /healthz is served over TLS too.
    QSslSocket https;
    connect(&https, &QSslSocket::sslErrors, &https,
            [&https](const QList<QSslError> &) { https.ignoreSslErrors(); });
    QSignalSpy encrypted(&https, &QSslSocket::encrypted);
    https.connectToHostEncrypted(QStringLiteral("127.0.0.1"), m_server->serverPort());
    // Not waitForEncrypted(): it would block the thread that the server runs in.
    QVERIFY2(encrypted.wait(10000), qPrintable(https.errorString()));
    https.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray response;
    QTRY_VERIFY((response += https.readAll()).contains("\r\n\r\n{"));
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());

    // A client speaking plain WebSocket to the TLS port gets no connection, and the server
    // goes on serving the TLS client.
    QWebSocket plain;
    QSignalSpy plainConnected(&plain, &QWebSocket::connected);
    plain.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/websocket?vsn=2.0.0")
                        .arg(m_server->serverPort())));
    QCOMPARE(plain.state(), QAbstractSocket::ConnectingState);
    QTRY_COMPARE_WITH_TIMEOUT(plain.state(), QAbstractSocket::UnconnectedState, 10000);
    QCOMPARE(plainConnected.count(), 0);
    socket.sendTextMessage(QStringLiteral(R"([null,"2","phoenix","heartbeat",{}])"));
    QTRY_COMPARE(frames.size(), 2);
    QCOMPARE(m_server->connectionCount(), 1);

    // A TLS connection closed with a handshake counts under its code, and one dropped without
    // a close frame as 1006, as a plain one does.
    QWebSocket closing;
    connect(&closing, &QWebSocket::sslErrors, &closing,
            [&closing](const QList<QSslError> &) { closing.ignoreSslErrors(); });
    QSignalSpy closingConnected(&closing, &QWebSocket::connected);
    closing.open(socket.requestUrl());
    QVERIFY(closingConnected.wait(10000));
    QTRY_COMPARE(m_server->connectionCount(), 2);
    closing.close(QWebSocketProtocol::CloseCodeGoingAway);
    QTRY_COMPARE(m_server->connectionCount(), 1);
    socket.abort();
    QTRY_COMPARE(m_server->connectionCount(), 0);
    QCOMPARE(m_server->metrics().closesByCode, (QMap<int, quint64> {{1001, 1}, {1006, 1}}));
}

void tst_Limits::tlsMissingFiles()
{
    ServerConfig config;
    config.port = 0;
    config.tlsCertificate = QStringLiteral("/nonexistent/cert.pem");
    config.tlsKey = QStringLiteral("/nonexistent/key.pem");
    Server server(config);
    QVERIFY(!server.listen());
    QCOMPARE(
        server.errorString(),
        QStringLiteral(
            "cannot read the TLS certificate /nonexistent/cert.pem: No such file or directory"));
}

QTEST_GUILESS_MAIN(tst_Limits)
#include "tst_limits.moc"
