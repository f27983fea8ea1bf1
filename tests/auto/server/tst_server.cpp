#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QRegularExpression>
#include <QTcpSocket>
#include <QWebSocketHandshakeOptions>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;

// The server's wire behaviour as the original Omw API defines it: transport, reserved events,
// the three channels, and bad input.
class tst_Server : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void httpNotFound();
    void httpHealthz();
    void httpSocketWithoutUpgrade();
    void vsnNegotiation_data();
    void vsnNegotiation();
    void subprotocolPhoenixSelected();

    void heartbeat();
    void joinUnmatchedTopic_data();
    void joinUnmatchedTopic();
    void eventOnUnjoinedTopic();
    void joinOnboarding();
    void duplicateJoinClosesOldJoin();
    void duplicateTrackingJoinKeepsRide();
    void leaveJoined();
    void leaveNotJoined();
    void generateSessionName();

    void rideRelaysCoordinates();
    void riderLeaveTerminates();
    void followerStaysJoinedAfterTerminated();
    void serializerV1Frames();

    void invalidJsonCloses1007();
    void invalidEnvelopeWithoutTopicCloses1007();
    void invalidEnvelopeWithTopicGetsError();
    void badFrameLeavesOthersAlone();
    void binaryFrameCloses1003();
    void oversizedFrameCloses1009();
    void idleTimeoutCloses1000();
    void heartbeatKeepsConnectionOpen();

private:
    void startServer(const ServerConfig &config = ServerConfig());
    QByteArray httpGet(const QByteArray &request);

    std::unique_ptr<Server> m_server;
};

void tst_Server::init()
{
    startServer();
}

void tst_Server::cleanup()
{
    m_server.reset();
}

void tst_Server::startServer(const ServerConfig &base)
{
    ServerConfig config = base;
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

QByteArray tst_Server::httpGet(const QByteArray &request)
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

static QJsonObject bodyOf(const QByteArray &response)
{
    return QJsonDocument::fromJson(response.mid(response.indexOf("\r\n\r\n") + 4)).object();
}

void tst_Server::httpNotFound()
{
    const QByteArray response = httpGet("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    QVERIFY2(response.startsWith("HTTP/1.1 404 Not Found\r\n"), response.constData());
    QVERIFY(response.contains("\r\nContent-Type: application/json\r\n"));
    const QJsonObject body = bodyOf(response);
    QCOMPARE(body.value(QStringLiteral("status")).toInt(), 404);
    QCOMPARE(body.value(QStringLiteral("error")).toString(),
             QStringLiteral("no route for GET /nope; the WebSocket endpoint is /socket/websocket"));
}

void tst_Server::httpHealthz()
{
    const QByteArray response = httpGet("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
    const QJsonObject body = bodyOf(response);
    QCOMPARE(body.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    QCOMPARE(body.value(QStringLiteral("connections")).toInt(), 0);
    QCOMPARE(body.value(QStringLiteral("rides")).toInt(), 0);
}

void tst_Server::httpSocketWithoutUpgrade()
{
    const QByteArray response
        = httpGet("GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\n\r\n");
    QVERIFY2(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response.constData());
}

void tst_Server::vsnNegotiation_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<bool>("arrays"); // V2 answers with arrays, V1 with objects

    QTest::newRow("2.0.0") << "vsn=2.0.0" << true << true;
    QTest::newRow("1.0.0") << "vsn=1.0.0" << true << false;
    QTest::newRow("no vsn") << "token=abc" << true << false;
    QTest::newRow("other params ignored") << "foo=bar&vsn=2.0.0&x=1" << true << true;
    QTest::newRow("3.0.0") << "vsn=3.0.0" << false << false;
    QTest::newRow("empty") << "vsn=" << false << false;
}

void tst_Server::vsnNegotiation()
{
    QFETCH(QString, query);
    QFETCH(bool, accepted);
    QFETCH(bool, arrays);

    if (!accepted) {
        const QByteArray response = httpGet(
            "GET /socket/websocket?" + query.toLatin1()
            + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        QVERIFY2(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response.constData());
        QCOMPARE(bodyOf(response).value(QStringLiteral("status")).toInt(), 403);
        return;
    }
    TestClient client;
    QVERIFY(client.open(m_server->serverPort(), query));
    client.sendText(arrays ? R"([null,"1","phoenix","heartbeat",{}])"
                           : R"({"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"})");
    const QJsonValue reply = client.next();
    if (arrays) {
        QCOMPARE(reply, json(R"([null,"1","phoenix","phx_reply",{"status":"ok","response":{}}])"));
    } else {
        QCOMPARE(
            reply,
            json(
                R"({"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"1"})"));
    }
}

void tst_Server::subprotocolPhoenixSelected()
{
    QWebSocket socket;
    QSignalSpy connected(&socket, &QWebSocket::connected);
    QWebSocketHandshakeOptions options;
    options.setSubprotocols(
        {QStringLiteral("phoenix"), QStringLiteral("base64url.bearer.phx.c2VjcmV0")});
    socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/websocket?vsn=2.0.0")
                         .arg(m_server->serverPort())),
                options);
    QVERIFY(connected.wait(5000));
    QCOMPARE(socket.subprotocol(), QStringLiteral("phoenix"));
}

void tst_Server::heartbeat()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.sendText(R"([null,"41","phoenix","heartbeat",{}])");
    QCOMPARE(client.next(),
             json(R"([null,"41","phoenix","phx_reply",{"status":"ok","response":{}}])"));
    // A join_ref on a heartbeat is not echoed: heartbeats belong to no channel.
    client.sendText(R"(["9","42","phoenix","heartbeat",{}])");
    QCOMPARE(client.next(),
             json(R"([null,"42","phoenix","phx_reply",{"status":"ok","response":{}}])"));
}

void tst_Server::joinUnmatchedTopic_data()
{
    QTest::addColumn<QString>("topic");
    QTest::newRow("unknown prefix") << "nope:1";
    QTest::newRow("onboarding with suffix") << "onboarding:x";
    QTest::newRow("phoenix") << "phoenix";
    QTest::newRow("tracking without colon") << "tracking";
    QTest::newRow("empty") << "";
}

void tst_Server::joinUnmatchedTopic()
{
    QFETCH(QString, topic);
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.send("3", "3", topic, QStringLiteral("phx_join"));
    QCOMPARE(client.next(),
             QJsonValue(QJsonArray {
                 QJsonValue::Null, "3", topic, "phx_reply",
                 json(R"({"status":"error","response":{"reason":"unmatched topic"}})")}));
}

void tst_Server::eventOnUnjoinedTopic()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.send("5", "6", QStringLiteral("onboarding"),
                QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QCOMPARE(
        client.next(),
        json(
            R"([null,"6","onboarding","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}])"));
    client.send("5", "7", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":1,"longitude":2})"));
    QCOMPARE(
        client.next(),
        json(
            R"([null,"7","tracking:brave-otter","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}])"));
}

void tst_Server::joinOnboarding()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.send("1", "1", QStringLiteral("onboarding"), QStringLiteral("phx_join"),
                json(R"({"anything":"goes"})"));
    QCOMPARE(client.next(),
             json(R"(["1","1","onboarding","phx_reply",{"status":"ok","response":{}}])"));
}

void tst_Server::duplicateJoinClosesOldJoin()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.send("1", "1", QStringLiteral("onboarding"), QStringLiteral("phx_join"));
    QCOMPARE(client.next(),
             json(R"(["1","1","onboarding","phx_reply",{"status":"ok","response":{}}])"));
    client.send("4", "4", QStringLiteral("onboarding"), QStringLiteral("phx_join"));
    QCOMPARE(client.next(),
             json(R"(["4","4","onboarding","phx_reply",{"status":"ok","response":{}}])"));
    QCOMPARE(client.next(), json(R"(["1","1","onboarding","phx_close",{}])"));
    // The channel is still joined, under the new join_ref.
    client.send("4", "5", QStringLiteral("onboarding"),
                QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    const QJsonArray reply = client.next().toArray();
    QCOMPARE(reply.at(0), QJsonValue("4"));
    QCOMPARE(reply.at(4)[QStringLiteral("status")], QJsonValue("ok"));
}

void tst_Server::duplicateTrackingJoinKeepsRide()
{
    TestClient rider;
    TestClient follower;
    QVERIFY(rider.open(m_server->serverPort()));
    QVERIFY(follower.open(m_server->serverPort()));
    follower.join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    QSignalSpy ended(m_server->sessions(), &Omw::SessionManager::sessionEnded);

    rider.send("2", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("phx_join"));
    QCOMPARE(
        rider.next(),
        json(
            R"(["2","2","tracking:brave-otter","phx_reply",{"status":"ok","response":{"slug":"brave-otter","state":"waiting"}}])"));
    QCOMPARE(rider.next(), json(R"(["1","1","tracking:brave-otter","phx_close",{}])"));
    QCOMPARE(m_server->sessions()->sessionCount(), 1);

    rider.send("2", "3", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
               json(R"({"latitude":48.2,"longitude":8.4,"speed":3.5,"heading":90})"));
    QCOMPARE(rider.next(),
             json(R"(["2","3","tracking:brave-otter","phx_reply",{"status":"ok","response":{}}])"));
    // The follower saw no TERMINATED, only the new point.
    const QJsonArray broadcast = follower.next().toArray();
    QCOMPARE(broadcast.at(3), QJsonValue("NEW_COORDS"));
    QCOMPARE(ended.count(), 0);
}

void tst_Server::leaveJoined()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.join(QStringLiteral("onboarding"), QStringLiteral("8"));
    client.send("8", "9", QStringLiteral("onboarding"), QStringLiteral("phx_leave"));
    QCOMPARE(client.next(),
             json(R"(["8","9","onboarding","phx_reply",{"status":"ok","response":{}}])"));
    QCOMPARE(client.next(), json(R"(["8","8","onboarding","phx_close",{}])"));
    client.send("8", "10", QStringLiteral("onboarding"),
                QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    QCOMPARE(
        client.next(),
        json(
            R"([null,"10","onboarding","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}])"));
}

void tst_Server::leaveNotJoined()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.send("12", "13", QStringLiteral("following:brave-otter"), QStringLiteral("phx_leave"));
    QCOMPARE(
        client.next(),
        json(R"(["12","13","following:brave-otter","phx_reply",{"status":"ok","response":{}}])"));
    QCOMPARE(client.unread(), 0);
}

void tst_Server::generateSessionName()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.join(QStringLiteral("onboarding"), QStringLiteral("1"));
    const Omw::Dictionary dictionary;
    QSet<QString> names;
    for (int i = 0; i < 20; ++i) {
        const QString ref = QString::number(i + 2);
        client.send("1", ref, QStringLiteral("onboarding"),
                    QStringLiteral("GENERATE_NEW_SESSION_NAME"), json(R"({"ignored":true})"));
        const QJsonArray reply = client.next().toArray();
        QCOMPARE(reply.at(0), QJsonValue("1"));
        QCOMPARE(reply.at(1), QJsonValue(ref));
        QCOMPARE(reply.at(4)[QStringLiteral("status")], QJsonValue("ok"));
        const QJsonValue response = reply.at(4)[QStringLiteral("response")];
        QVERIFY(response.isString());
        const QStringList words = response.toString().split(QLatin1Char('-'));
        QCOMPARE(words.size(), 2);
        QVERIFY(words.at(0) != words.at(1));
        QVERIFY(dictionary.words().contains(words.at(0)));
        QVERIFY(dictionary.words().contains(words.at(1)));
        names.insert(response.toString());
    }
    QCOMPARE(names.size(), 20);
}

void tst_Server::rideRelaysCoordinates()
{
    TestClient rider;
    TestClient follower;
    QVERIFY(rider.open(m_server->serverPort()));
    QVERIFY(follower.open(m_server->serverPort()));
    QCOMPARE(
        follower.join(QStringLiteral("following:describe-canoe"), QStringLiteral("1")),
        json(
            R"({"status":"ok","response":{"slug":"describe-canoe","state":"waiting","last":null,"trail":[]}})")
            .toObject());
    QCOMPARE(rider.join(QStringLiteral("tracking:describe-canoe"), QStringLiteral("1")),
             json(R"({"status":"ok","response":{"slug":"describe-canoe","state":"waiting"}})")
                 .toObject());

    const qint64 timestamp = QDateTime::currentMSecsSinceEpoch() - 1000;
    rider.send("1", "2", QStringLiteral("tracking:describe-canoe"), QStringLiteral("NEW_COORDS"),
               QJsonObject {{"latitude", -27.5723},
                            {"longitude", 153.0907},
                            {"speed", 17.44},
                            {"heading", 157.8},
                            {"timestamp", double(timestamp)},
                            {"floor", 2},
                            {"is_mocked", false}});
    QCOMPARE(
        rider.next(),
        json(R"(["1","2","tracking:describe-canoe","phx_reply",{"status":"ok","response":{}}])"));
    const QJsonArray broadcast = follower.next().toArray();
    QCOMPARE(broadcast.size(), 5);
    QCOMPARE(broadcast.at(0), QJsonValue(QJsonValue::Null));
    QCOMPARE(broadcast.at(1), QJsonValue(QJsonValue::Null));
    QCOMPARE(broadcast.at(2), QJsonValue("following:describe-canoe"));
    QCOMPARE(broadcast.at(3), QJsonValue("NEW_COORDS"));
    QJsonObject payload = broadcast.at(4).toObject();
    const qint64 receivedAt = qint64(payload.take(QStringLiteral("received_at")).toDouble());
    QVERIFY(receivedAt >= timestamp);
    QVERIFY(receivedAt <= QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(payload,
             QJsonObject({{"heading", 157.8},
                          {"latitude", -27.5723},
                          {"longitude", 153.0907},
                          {"slug", "describe-canoe"},
                          {"speed", 17.44},
                          {"timestamp", double(timestamp)}}));
    // The rider gets no broadcast of its own points.
    QCOMPARE(rider.unread(), 0);
}

void tst_Server::riderLeaveTerminates()
{
    TestClient rider;
    TestClient follower;
    QVERIFY(rider.open(m_server->serverPort()));
    QVERIFY(follower.open(m_server->serverPort()));
    follower.join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("3"));
    QSignalSpy ended(m_server->sessions(), &Omw::SessionManager::sessionEnded);

    rider.send("3", "4", QStringLiteral("tracking:brave-otter"), QStringLiteral("phx_leave"));
    QCOMPARE(rider.next(),
             json(R"(["3","4","tracking:brave-otter","phx_reply",{"status":"ok","response":{}}])"));
    QCOMPARE(rider.next(), json(R"(["3","3","tracking:brave-otter","phx_close",{}])"));
    QCOMPARE(follower.next(), json(R"([null,null,"following:brave-otter","TERMINATED",{}])"));
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(0).toString(), QStringLiteral("brave-otter"));
    QCOMPARE(ended.at(0).at(1).value<Omw::EndReason>(), Omw::EndReason::RiderLeft);
    QCOMPARE(m_server->sessions()->sessionCount(), 0);
}

void tst_Server::followerStaysJoinedAfterTerminated()
{
    TestClient rider;
    TestClient follower;
    QVERIFY(rider.open(m_server->serverPort()));
    QVERIFY(follower.open(m_server->serverPort()));
    follower.join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    rider.send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("phx_leave"));
    QCOMPARE(follower.next(), json(R"([null,null,"following:brave-otter","TERMINATED",{}])"));

    // The rider comes back under the same name; the follower, still joined, sees it move.
    rider.next();
    rider.next();
    QCOMPARE(rider.join(QStringLiteral("tracking:brave-otter"),
                        QStringLiteral("5"))[QStringLiteral("status")],
             QJsonValue("ok"));
    rider.send("5", "6", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
               json(R"({"latitude":10.5,"longitude":20.25,"speed":null,"heading":null})"));
    const QJsonArray broadcast = follower.next().toArray();
    QCOMPARE(broadcast.at(3), QJsonValue("NEW_COORDS"));
    const QJsonObject payload = broadcast.at(4).toObject();
    QCOMPARE(payload.value(QStringLiteral("latitude")), QJsonValue(10.5));
    QCOMPARE(payload.value(QStringLiteral("longitude")), QJsonValue(20.25));
    QCOMPARE(payload.value(QStringLiteral("speed")), QJsonValue(QJsonValue::Null));
    QCOMPARE(payload.value(QStringLiteral("heading")), QJsonValue(QJsonValue::Null));
}

void tst_Server::serializerV1Frames()
{
    TestClient rider;
    TestClient follower;
    QVERIFY(rider.open(m_server->serverPort(), QStringLiteral("vsn=1.0.0")));
    QVERIFY(follower.open(m_server->serverPort(), QStringLiteral("vsn=1.0.0")));
    follower.sendText(
        R"({"topic":"following:brave-otter","event":"phx_join","payload":{},"ref":"1","join_ref":"1"})");
    QCOMPARE(
        follower.next(),
        json(
            R"({"topic":"following:brave-otter","event":"phx_reply","ref":"1","payload":{"status":"ok","response":{"slug":"brave-otter","state":"waiting","last":null,"trail":[]}}})"));
    rider.sendText(
        R"({"topic":"tracking:brave-otter","event":"phx_join","payload":{},"ref":"1","join_ref":"1"})");
    QCOMPARE(
        rider.next(),
        json(
            R"({"topic":"tracking:brave-otter","event":"phx_reply","ref":"1","payload":{"status":"ok","response":{"slug":"brave-otter","state":"waiting"}}})"));
    rider.sendText(
        R"({"topic":"tracking:brave-otter","event":"NEW_COORDS","payload":{"latitude":1.5,"longitude":2.5,"speed":4,"heading":359.5},"ref":"2","join_ref":"1"})");
    QCOMPARE(
        rider.next(),
        json(
            R"({"topic":"tracking:brave-otter","event":"phx_reply","ref":"2","payload":{"status":"ok","response":{}}})"));
    const QJsonObject broadcast = follower.next().toObject();
    QCOMPARE(broadcast.keys(), QStringList({"event", "payload", "ref", "topic"}));
    QCOMPARE(broadcast.value(QStringLiteral("topic")), QJsonValue("following:brave-otter"));
    QCOMPARE(broadcast.value(QStringLiteral("event")), QJsonValue("NEW_COORDS"));
    QCOMPARE(broadcast.value(QStringLiteral("ref")), QJsonValue(QJsonValue::Null));
    QCOMPARE(broadcast.value(QStringLiteral("payload"))[QStringLiteral("heading")],
             QJsonValue(359.5));
}

void tst_Server::invalidJsonCloses1007()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.sendText("[\"1\",\"1\",\"onboarding\",\"phx_join\",{");
    QVERIFY(client.waitForDisconnect());
    QCOMPARE(client.socket().closeCode(), QWebSocketProtocol::CloseCodeWrongDatatype);
    QCOMPARE(client.unread(), 0);
}

void tst_Server::invalidEnvelopeWithoutTopicCloses1007()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.sendText(R"({"topic":"onboarding","event":"phx_join","payload":{},"ref":"1"})");
    QVERIFY(client.waitForDisconnect());
    QCOMPARE(client.socket().closeCode(), QWebSocketProtocol::CloseCodeWrongDatatype);
}

void tst_Server::invalidEnvelopeWithTopicGetsError()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.sendText(R"(["1","2","onboarding",7,{}])");
    QCOMPARE(
        client.next(),
        json(
            R"(["1","2","onboarding","phx_reply",{"status":"error","response":{"reason":"invalid_envelope","message":"event must be a string"}}])"));
    // The connection stays usable.
    client.sendText(R"([null,"3","phoenix","heartbeat",{}])");
    QCOMPARE(client.next(),
             json(R"([null,"3","phoenix","phx_reply",{"status":"ok","response":{}}])"));
}

void tst_Server::badFrameLeavesOthersAlone()
{
    TestClient rider;
    TestClient follower;
    TestClient attacker;
    QVERIFY(rider.open(m_server->serverPort()));
    QVERIFY(follower.open(m_server->serverPort()));
    QVERIFY(attacker.open(m_server->serverPort()));
    follower.join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    attacker.join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    attacker.sendText("not json at all");
    QVERIFY(attacker.waitForDisconnect());

    rider.send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
               json(R"({"latitude":3,"longitude":4})"));
    QCOMPARE(rider.next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(follower.next()[3], QJsonValue("NEW_COORDS"));
    QCOMPARE(m_server->sessions()->followerCount(QStringLiteral("brave-otter")), 1);
}

void tst_Server::binaryFrameCloses1003()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    client.socket().sendBinaryMessage(QByteArray("[null,\"1\",\"phoenix\",\"heartbeat\",{}]"));
    QVERIFY(client.waitForDisconnect());
    QCOMPARE(client.socket().closeCode(), QWebSocketProtocol::CloseCodeDatatypeNotSupported);
}

void tst_Server::oversizedFrameCloses1009()
{
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    // Exactly at the limit is accepted.
    const QByteArray prefix = R"([null,"1","phoenix","heartbeat",{"pad":")";
    const QByteArray suffix = R"("}])";
    const int padding = 64 * 1024 - prefix.size() - suffix.size();
    client.sendText(prefix + QByteArray(padding, 'x') + suffix);
    QCOMPARE(client.next()[4][QStringLiteral("status")], QJsonValue("ok"));
    client.sendText(prefix + QByteArray(padding + 1, 'x') + suffix);
    QVERIFY(client.waitForDisconnect());
    QCOMPARE(client.socket().closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
}

void tst_Server::idleTimeoutCloses1000()
{
    ServerConfig config;
    config.idleTimeout = 300;
    startServer(config);
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(client.waitForDisconnect(5000));
    QVERIFY(timer.elapsed() >= 250);
    QCOMPARE(client.socket().closeCode(), QWebSocketProtocol::CloseCodeNormal);
    QCOMPARE(client.socket().closeReason(), QStringLiteral("idle timeout"));
}

void tst_Server::heartbeatKeepsConnectionOpen()
{
    ServerConfig config;
    config.idleTimeout = 400;
    startServer(config);
    TestClient client;
    QVERIFY(client.open(m_server->serverPort()));
    QSignalSpy disconnected(&client.socket(), &QWebSocket::disconnected);
    for (int i = 0; i < 6; ++i) {
        // Each heartbeat's reply comes back before the next is sent, 200 ms apart in all.
        QTest::qWait(200);
        client.sendText(QStringLiteral(R"([null,"%1","phoenix","heartbeat",{}])").arg(i).toUtf8());
        QCOMPARE(client.next()[4][QStringLiteral("status")], QJsonValue("ok"));
    }
    QCOMPARE(disconnected.count(), 0);
}

QTEST_GUILESS_MAIN(tst_Server)
#include "tst_server.moc"
