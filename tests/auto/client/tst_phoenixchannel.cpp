#include "omwserverprocess.h"
#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

using Omw::Phoenix::Channel;
using Omw::Phoenix::Message;
using Omw::Phoenix::Push;
using Omw::Phoenix::Socket;

namespace {

struct Ride
{
    QString slug;
    QString token;
};

QJsonObject fix(double latitude, double longitude, double speed, double heading)
{
    return {{QStringLiteral("latitude"), latitude},
            {QStringLiteral("longitude"), longitude},
            {QStringLiteral("speed"), speed},
            {QStringLiteral("heading"), heading}};
}

} // namespace

class TestPhoenixChannel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void joinReplyAndPush();
    void unmatchedTopicRejected();
    void rejoinIgnoresStaleClose();
    void paramsChangedBeforeRejoin();
    void rejoinAfterServerRestart();
    void broadcastReachesFollower();
    void followerJoinGetsSnapshot();
    void leaveTerminatesRide();
    void leaveWhileDisconnected();
    void joinTwiceIsIgnored();

private:
    Ride createRide(Socket *socket);

    std::unique_ptr<OmwServerProcess> m_server;
};

void TestPhoenixChannel::initTestCase()
{
    if (!QFile::exists(OmwServerProcess::binaryPath()))
        QSKIP("omw-server is not built; build the omw-server target first");
}

void TestPhoenixChannel::init()
{
    m_server = std::make_unique<OmwServerProcess>();
    QVERIFY2(m_server->start(), qPrintable(m_server->errorString()));
}

void TestPhoenixChannel::cleanup()
{
    m_server.reset();
}

Ride TestPhoenixChannel::createRide(Socket *socket)
{
    Channel *onboarding = socket->channel(QStringLiteral("onboarding"));
    QSignalSpy joined(onboarding, &Channel::joined);
    onboarding->join();
    if (socket->state() == Socket::State::Disconnected)
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

void TestPhoenixChannel::joinReplyAndPush()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = socket.channel(QStringLiteral("onboarding"));
    QSignalSpy joined(channel, &Channel::joined);
    QSignalSpy states(channel, &Channel::stateChanged);
    channel->join();
    QCOMPARE(channel->state(), Channel::State::Joining);
    socket.connectToServer();
    QVERIFY(joined.wait(5000));
    QCOMPARE(joined.count(), 1);
    QCOMPARE(joined.at(0).at(0).toJsonValue(), QJsonValue(QJsonObject()));
    QCOMPARE(channel->state(), Channel::State::Joined);
    QCOMPARE(states.count(), 2);
    QCOMPARE(states.at(1).at(0).value<Channel::State>(), Channel::State::Joined);

    Push *push = channel->push(QStringLiteral("CREATE_SESSION"));
    QSignalSpy replied(push, &Push::replied);
    QVERIFY(replied.wait(5000));
    QCOMPARE(replied.at(0).at(0).toString(), QStringLiteral("ok"));
    const QJsonObject response = replied.at(0).at(1).toJsonValue().toObject();
    QVERIFY(QRegularExpression(QStringLiteral("^\\w+-\\w+$"))
                .match(response.value(QLatin1String("slug")).toString())
                .hasMatch());
    // At least 128 bits, URL-safe: 22 or more base64url characters.
    QVERIFY(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]{22,}$"))
                .match(response.value(QLatin1String("token")).toString())
                .hasMatch());
}

void TestPhoenixChannel::unmatchedTopicRejected()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = socket.channel(QStringLiteral("nope:1"));
    QSignalSpy rejected(channel, &Channel::joinRejected);
    QSignalSpy errors(channel, &Channel::errorOccurred);
    QSignalSpy joined(channel, &Channel::joined);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("join of .* rejected")));
    channel->join();
    socket.connectToServer();
    QVERIFY(rejected.wait(5000));
    QCOMPARE(rejected.at(0).at(0).toJsonValue().toObject().value(QLatin1String("reason")),
             QJsonValue(QStringLiteral("unmatched topic")));
    QCOMPARE(errors.count(), 1);
    QCOMPARE(errors.at(0).at(0).value<Channel::Error>(), Channel::Error::JoinRejected);
    QVERIFY2(channel->errorString().contains(QLatin1String("unmatched topic")),
             qPrintable(channel->errorString()));
    QCOMPARE(channel->state(), Channel::State::Errored);
    QCOMPARE(joined.count(), 0);
    // A rejected join is not retried on the same connection.
    QCOMPARE(channel->activeTimerCount(), 0);
}

void TestPhoenixChannel::rejoinIgnoresStaleClose()
{
    Socket socket(m_server->socketUrl());
    const Ride ride = createRide(&socket);
    QVERIFY(!ride.token.isEmpty());

    Channel *tracking = socket.channel(QStringLiteral("tracking:") + ride.slug,
                                       {{QStringLiteral("token"), ride.token}});
    QSignalSpy joined(tracking, &Channel::joined);
    QSignalSpy left(tracking, &Channel::left);
    QSignalSpy errors(tracking, &Channel::errorOccurred);
    tracking->join();
    QVERIFY(joined.wait(5000));
    const QString firstJoinRef = tracking->joinRef();

    // The server replies to a second join of the same topic first, then sends a phx_close
    // for the first join_ref. The channel must ignore that close.
    bool staleCloseSeen = false;
    connect(&socket, &Socket::messageReceived, this, [&](const Message &message) {
        if (message.topic == tracking->topic() && message.event == Omw::Phoenix::Event::close
            && message.joinRef == QJsonValue(firstJoinRef))
            staleCloseSeen = true;
    });
    tracking->rejoin();
    QVERIFY(joined.wait(5000));
    QTRY_VERIFY_WITH_TIMEOUT(staleCloseSeen, 5000);
    QVERIFY(tracking->joinRef() != firstJoinRef);
    QCOMPARE(tracking->state(), Channel::State::Joined);
    QCOMPARE(left.count(), 0);
    QCOMPARE(errors.count(), 0);

    // The channel still works under the new join_ref.
    Push *push = tracking->push(QStringLiteral("NEW_COORDS"), fix(46.95, 7.45, 10, 90));
    QSignalSpy replied(push, &Push::replied);
    QVERIFY(replied.wait(5000));
    QCOMPARE(replied.at(0).at(0).toString(), QStringLiteral("ok"));
}

void TestPhoenixChannel::paramsChangedBeforeRejoin()
{
    Socket socket(m_server->socketUrl());
    const Ride ride = createRide(&socket);
    QVERIFY(!ride.token.isEmpty());

    Channel *tracking = socket.channel(QStringLiteral("tracking:") + ride.slug,
                                       {{QStringLiteral("token"), QStringLiteral("wrong")}});
    QSignalSpy rejected(tracking, &Channel::joinRejected);
    QSignalSpy joined(tracking, &Channel::joined);
    QSignalSpy paramsChanged(tracking, &Channel::paramsChanged);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("join of .* rejected")));
    tracking->join();
    QVERIFY(rejected.wait(5000));
    QCOMPARE(rejected.at(0).at(0).toJsonValue().toObject().value(QLatin1String("reason")),
             QJsonValue(QStringLiteral("unauthorized")));

    tracking->setParams({{QStringLiteral("token"), ride.token}});
    QCOMPARE(paramsChanged.count(), 1);
    tracking->rejoin();
    QVERIFY(joined.wait(5000));
    const QJsonObject reply = joined.at(0).at(0).toJsonValue().toObject();
    QCOMPARE(reply.value(QLatin1String("slug")).toString(), ride.slug);
    QVERIFY(reply.contains(QLatin1String("state")));
    QCOMPARE(tracking->joinResponse(), QJsonValue(reply));
}

void TestPhoenixChannel::rejoinAfterServerRestart()
{
    Socket socket(m_server->socketUrl());
    socket.setReconnectBaseDelay(100);
    socket.setReconnectMaxDelay(300);
    const Ride ride = createRide(&socket);
    QVERIFY(!ride.token.isEmpty());
    Channel *tracking = socket.channel(QStringLiteral("tracking:") + ride.slug,
                                       {{QStringLiteral("token"), ride.token}});
    QSignalSpy joined(tracking, &Channel::joined);
    QSignalSpy errors(tracking, &Channel::errorOccurred);
    tracking->join();
    QVERIFY(joined.wait(5000));
    const QString firstJoinRef = tracking->joinRef();

    const quint16 port = m_server->port();
    m_server->stop();
    QTRY_COMPARE_WITH_TIMEOUT(tracking->state(), Channel::State::Errored, 5000);
    QCOMPARE(errors.count(), 1);
    QCOMPARE(errors.at(0).at(0).value<Channel::Error>(), Channel::Error::ConnectionLost);

    // The restarted server has forgotten the ride; the token's holder adopts the name again.
    QVERIFY2(m_server->start(port), qPrintable(m_server->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(joined.count(), 2, 10000);
    QCOMPARE(tracking->state(), Channel::State::Joined);
    QVERIFY(tracking->joinRef() != firstJoinRef);
    QCOMPARE(joined.at(1).at(0).toJsonValue().toObject().value(QLatin1String("slug")).toString(),
             ride.slug);
}

void TestPhoenixChannel::broadcastReachesFollower()
{
    Socket riderSocket(m_server->socketUrl());
    const Ride ride = createRide(&riderSocket);
    QVERIFY(!ride.token.isEmpty());
    Channel *tracking = riderSocket.channel(QStringLiteral("tracking:") + ride.slug,
                                            {{QStringLiteral("token"), ride.token}});
    QSignalSpy trackingJoined(tracking, &Channel::joined);
    tracking->join();
    QVERIFY(trackingJoined.wait(5000));

    Socket followerSocket(m_server->socketUrl());
    Channel *following = followerSocket.channel(QStringLiteral("following:") + ride.slug);
    QSignalSpy followingJoined(following, &Channel::joined);
    QSignalSpy messages(following, &Channel::messageReceived);
    following->join();
    followerSocket.connectToServer();
    QVERIFY(followingJoined.wait(5000));

    QJsonObject payload = fix(46.9481, 7.4475, 12.5, 359.5);
    payload.insert(QStringLiteral("timestamp"), double(QDateTime::currentMSecsSinceEpoch()));
    payload.insert(QStringLiteral("altitude"), 541.25);
    tracking->push(QStringLiteral("NEW_COORDS"), payload);
    QVERIFY(messages.wait(5000));
    QCOMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(0).toString(), QStringLiteral("NEW_COORDS"));
    const QJsonObject broadcast = messages.at(0).at(1).toJsonObject();
    QCOMPARE(broadcast.value(QLatin1String("slug")).toString(), ride.slug);
    QCOMPARE(broadcast.value(QLatin1String("latitude")).toDouble(), 46.9481);
    QCOMPARE(broadcast.value(QLatin1String("longitude")).toDouble(), 7.4475);
    QCOMPARE(broadcast.value(QLatin1String("speed")).toDouble(), 12.5);
    QCOMPARE(broadcast.value(QLatin1String("heading")).toDouble(), 359.5);
    QCOMPARE(broadcast.value(QLatin1String("altitude")).toDouble(), 541.25);
    QCOMPARE(broadcast.value(QLatin1String("timestamp")).toDouble(),
             payload.value(QLatin1String("timestamp")).toDouble());
}

void TestPhoenixChannel::followerJoinGetsSnapshot()
{
    Socket riderSocket(m_server->socketUrl());
    const Ride ride = createRide(&riderSocket);
    Channel *tracking = riderSocket.channel(QStringLiteral("tracking:") + ride.slug,
                                            {{QStringLiteral("token"), ride.token}});
    QSignalSpy trackingJoined(tracking, &Channel::joined);
    tracking->join();
    QVERIFY(trackingJoined.wait(5000));
    Push *push = tracking->push(QStringLiteral("NEW_COORDS"), fix(46.95, 7.45, 3, 45));
    QSignalSpy replied(push, &Push::replied);
    QVERIFY(replied.wait(5000));

    Socket followerSocket(m_server->socketUrl());
    Channel *following = followerSocket.channel(QStringLiteral("following:") + ride.slug);
    QSignalSpy joined(following, &Channel::joined);
    following->join();
    followerSocket.connectToServer();
    QVERIFY(joined.wait(5000));
    const QJsonObject snapshot = joined.at(0).at(0).toJsonValue().toObject();
    QCOMPARE(snapshot.value(QLatin1String("slug")).toString(), ride.slug);
    QCOMPARE(snapshot.value(QLatin1String("state")).toString(), QStringLiteral("live"));
    QCOMPARE(snapshot.value(QLatin1String("last")).toObject().value(QLatin1String("latitude")),
             QJsonValue(46.95));
    QCOMPARE(snapshot.value(QLatin1String("trail")).toArray().size(), 1);
}

void TestPhoenixChannel::leaveTerminatesRide()
{
    Socket riderSocket(m_server->socketUrl());
    const Ride ride = createRide(&riderSocket);
    Channel *tracking = riderSocket.channel(QStringLiteral("tracking:") + ride.slug,
                                            {{QStringLiteral("token"), ride.token}});
    QSignalSpy trackingJoined(tracking, &Channel::joined);
    tracking->join();
    QVERIFY(trackingJoined.wait(5000));

    Socket followerSocket(m_server->socketUrl());
    Channel *following = followerSocket.channel(QStringLiteral("following:") + ride.slug);
    QSignalSpy followingJoined(following, &Channel::joined);
    QSignalSpy messages(following, &Channel::messageReceived);
    following->join();
    followerSocket.connectToServer();
    QVERIFY(followingJoined.wait(5000));

    QSignalSpy left(tracking, &Channel::left);
    tracking->leave();
    QCOMPARE(tracking->state(), Channel::State::Leaving);
    QVERIFY(left.wait(5000));
    QCOMPARE(left.count(), 1);
    QCOMPARE(tracking->state(), Channel::State::Closed);
    QVERIFY(tracking->joinRef().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(messages.count(), 1, 5000);
    QCOMPARE(messages.at(0).at(0).toString(), QStringLiteral("TERMINATED"));

    // A closed channel does not rejoin, and pushes on it fail.
    Push *push = tracking->push(QStringLiteral("NEW_COORDS"), fix(1, 2, 3, 4));
    QSignalSpy failed(push, &Push::failed);
    QCOMPARE(failed.count(), 0); // reported from the event loop, not inside push()
    QVERIFY(failed.wait(1000));
    QCOMPARE(failed.at(0).at(0).value<Push::Error>(), Push::Error::NotJoined);
}

void TestPhoenixChannel::leaveWhileDisconnected()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = socket.channel(QStringLiteral("onboarding"));
    QSignalSpy left(channel, &Channel::left);
    channel->join();
    Push *queued = channel->push(QStringLiteral("CREATE_SESSION"));
    QSignalSpy failed(queued, &Push::failed);
    QCOMPARE(queued->state(), Push::State::Queued);

    channel->leave();
    QCOMPARE(left.count(), 1);
    QCOMPARE(channel->state(), Channel::State::Closed);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(0).value<Push::Error>(), Push::Error::ChannelLeft);

    // Connecting afterwards does not join the left channel.
    QSignalSpy joined(channel, &Channel::joined);
    QSignalSpy connected(&socket, &Socket::connected);
    socket.connectToServer();
    QVERIFY(connected.wait(5000));
    QVERIFY(!joined.wait(300));
    QCOMPARE(channel->state(), Channel::State::Closed);
}

void TestPhoenixChannel::joinTwiceIsIgnored()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = socket.channel(QStringLiteral("onboarding"));
    QSignalSpy joined(channel, &Channel::joined);
    channel->join();
    socket.connectToServer();
    QVERIFY(joined.wait(5000));
    const QString joinRef = channel->joinRef();
    channel->join();
    QVERIFY(!joined.wait(300));
    QCOMPARE(channel->joinRef(), joinRef);
    QCOMPARE(joined.count(), 1);
}

QTEST_GUILESS_MAIN(TestPhoenixChannel)
#include "tst_phoenixchannel.moc"
