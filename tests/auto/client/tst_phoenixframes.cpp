// The exact frames the client library sends and how it treats frames it receives, checked
// against a scripted in-process WebSocket server on a loopback port.

#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using Omw::Phoenix::Channel;
using Omw::Phoenix::Push;
using Omw::Phoenix::Socket;

namespace {

QJsonArray frame(const QString &text)
{
    return QJsonDocument::fromJson(text.toUtf8()).array();
}

QString text(const QJsonArray &array)
{
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

} // namespace

class TestPhoenixFrames : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void requestUrlSelectsSerializerV2();
    void joinPushAndLeaveFrames();
    void heartbeatFrame();
    void staleJoinRefFramesIgnored();
    void nullJoinRefReplyDelivered();

private:
    // Connects `socket` with one channel joined; the server side is m_peer.
    bool joinChannel(Socket *socket, Channel *channel);
    QJsonArray nextFrame();

    std::unique_ptr<QWebSocketServer> m_server;
    QWebSocket *m_peer = nullptr;
    QUrl m_requestUrl;
    QStringList m_frames;
};

void TestPhoenixFrames::init()
{
    m_server = std::make_unique<QWebSocketServer>(QStringLiteral("scripted"),
                                                  QWebSocketServer::NonSecureMode);
    QVERIFY(m_server->listen(QHostAddress::LocalHost, 0));
    m_peer = nullptr;
    m_frames.clear();
    connect(m_server.get(), &QWebSocketServer::newConnection, this, [this] {
        m_peer = m_server->nextPendingConnection();
        m_peer->setParent(m_server.get()); // the server does not own its connections
        m_requestUrl = m_peer->requestUrl();
        connect(m_peer, &QWebSocket::textMessageReceived, this,
                [this](const QString &message) { m_frames.append(message); });
    });
}

void TestPhoenixFrames::cleanup()
{
    m_server.reset();
}

QJsonArray TestPhoenixFrames::nextFrame()
{
    // An empty array makes the caller's comparison fail when no frame arrives in time.
    if (!QTest::qWaitFor([this] { return !m_frames.isEmpty(); }, 5000))
        return {};
    return frame(m_frames.takeFirst());
}

bool TestPhoenixFrames::joinChannel(Socket *socket, Channel *channel)
{
    QSignalSpy joined(channel, &Channel::joined);
    channel->join();
    socket->connectToServer();
    const QJsonArray join = nextFrame();
    if (join.size() != 5)
        return false;
    m_peer->sendTextMessage(text({join.at(0), join.at(1), join.at(2), QStringLiteral("phx_reply"),
                                  QJsonObject {{QStringLiteral("status"), QStringLiteral("ok")},
                                               {QStringLiteral("response"), QJsonObject()}}}));
    return joined.wait(5000);
}

void TestPhoenixFrames::requestUrlSelectsSerializerV2()
{
    Socket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_server->serverPort())));
    QSignalSpy connected(&socket, &Socket::connected);
    socket.connectToServer();
    QVERIFY(connected.wait(5000));
    QCOMPARE(m_requestUrl.path(), QStringLiteral("/socket/websocket"));
    QCOMPARE(m_requestUrl.query(), QStringLiteral("vsn=2.0.0"));
}

void TestPhoenixFrames::joinPushAndLeaveFrames()
{
    Socket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_server->serverPort())));
    Channel *channel = socket.channel(QStringLiteral("tracking:describe-canoe"),
                                      {{QStringLiteral("token"), QStringLiteral("t0k3n")}});
    QSignalSpy joined(channel, &Channel::joined);
    channel->join();
    socket.connectToServer();
    QCOMPARE(nextFrame(),
             frame(R"(["1","1","tracking:describe-canoe","phx_join",{"token":"t0k3n"}])"));
    m_peer->sendTextMessage(
        R"(["1","1","tracking:describe-canoe","phx_reply",{"status":"ok","response":{"slug":"describe-canoe","state":"live"}}])");
    QVERIFY(joined.wait(5000));
    QCOMPARE(joined.at(0).at(0).toJsonValue().toObject().value(QLatin1String("state")),
             QJsonValue(QStringLiteral("live")));

    Push *push
        = channel->push(QStringLiteral("NEW_COORDS"),
                        {{QStringLiteral("latitude"), 46.5}, {QStringLiteral("longitude"), 7}});
    QCOMPARE(nextFrame(),
             frame(R"(["1","2","tracking:describe-canoe","NEW_COORDS",)"
                   R"({"latitude":46.5,"longitude":7}])"));
    QSignalSpy replied(push, &Push::replied);
    m_peer->sendTextMessage(
        R"(["1","2","tracking:describe-canoe","phx_reply",{"status":"error","response":{"reason":"invalid_speed"}}])");
    QVERIFY(replied.wait(5000));
    QCOMPARE(replied.at(0).at(0).toString(), QStringLiteral("error"));

    QSignalSpy left(channel, &Channel::left);
    channel->leave();
    QCOMPARE(nextFrame(), frame(R"(["1","3","tracking:describe-canoe","phx_leave",{}])"));
    m_peer->sendTextMessage(
        R"(["1","3","tracking:describe-canoe","phx_reply",{"status":"ok","response":{}}])");
    QVERIFY(left.wait(5000));
    QCOMPARE(channel->state(), Channel::State::Closed);
}

void TestPhoenixFrames::heartbeatFrame()
{
    Socket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_server->serverPort())));
    socket.setHeartbeatInterval(50);
    socket.setHeartbeatTimeout(5000);
    socket.connectToServer();
    QCOMPARE(nextFrame(), frame(R"([null,"1","phoenix","heartbeat",{}])"));
    // No second heartbeat goes out until the first one gets its reply.
    QVERIFY(!QTest::qWaitFor([this] { return !m_frames.isEmpty(); }, 300));
    m_peer->sendTextMessage(R"([null,"1","phoenix","phx_reply",{"status":"ok","response":{}}])");
    QCOMPARE(nextFrame(), frame(R"([null,"2","phoenix","heartbeat",{}])"));
}

void TestPhoenixFrames::staleJoinRefFramesIgnored()
{
    Socket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_server->serverPort())));
    Channel *channel = socket.channel(QStringLiteral("following:a-b"));
    QVERIFY(joinChannel(&socket, channel));
    QCOMPARE(channel->joinRef(), QStringLiteral("1"));

    QSignalSpy messages(channel, &Channel::messageReceived);
    QSignalSpy joined(channel, &Channel::joined);
    QSignalSpy errors(channel, &Channel::errorOccurred);
    channel->rejoin();
    QCOMPARE(nextFrame(), frame(R"(["2","2","following:a-b","phx_join",{}])"));

    // A late reply to the first join, a close and a push of the first join_ref are all stale.
    m_peer->sendTextMessage(
        R"(["1","1","following:a-b","phx_reply",{"status":"ok","response":{"old":true}}])");
    m_peer->sendTextMessage(R"(["1","1","following:a-b","phx_close",{}])");
    m_peer->sendTextMessage(R"(["1",null,"following:a-b","NEW_COORDS",{"stale":true}])");
    m_peer->sendTextMessage(
        R"(["2","2","following:a-b","phx_reply",{"status":"ok","response":{"new":true}}])");
    m_peer->sendTextMessage(R"([null,null,"following:a-b","NEW_COORDS",{"fresh":true}])");
    QVERIFY(messages.wait(5000));
    QCOMPARE(joined.count(), 1);
    QCOMPARE(joined.at(0).at(0).toJsonValue(), QJsonValue(QJsonObject {{"new", true}}));
    QCOMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(1).toJsonObject(), (QJsonObject {{"fresh", true}}));
    QCOMPARE(channel->state(), Channel::State::Joined);
    QCOMPARE(errors.count(), 0);
}

void TestPhoenixFrames::nullJoinRefReplyDelivered()
{
    // A server replies to a join of an unknown topic with a null join_ref: that reply still
    // belongs to the join.
    Socket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_server->serverPort())));
    Channel *channel = socket.channel(QStringLiteral("nope:1"));
    QSignalSpy rejected(channel, &Channel::joinRejected);
    channel->join();
    socket.connectToServer();
    QCOMPARE(nextFrame(), frame(R"(["1","1","nope:1","phx_join",{}])"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("join of .* rejected")));
    m_peer->sendTextMessage(
        R"([null,"1","nope:1","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}])");
    QVERIFY(rejected.wait(5000));
    QCOMPARE(channel->state(), Channel::State::Errored);
}

QTEST_GUILESS_MAIN(TestPhoenixFrames)
#include "tst_phoenixframes.moc"
