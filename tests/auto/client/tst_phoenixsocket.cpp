#include "omwserverprocess.h"
#include "phoenixchannel.h"
#include "phoenixsocket.h"

#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <cmath>
#include <memory>

using Omw::Phoenix::Channel;
using Omw::Phoenix::Message;
using Omw::Phoenix::Socket;

class TestPhoenixSocket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void websocketUrl_data();
    void websocketUrl();
    void invalidEndpoint_data();
    void invalidEndpoint();
    void reconnectDelayCap_data();
    void reconnectDelayCap();
    void jitterBoundsWithFixedSource();
    void jitterBoundsWithSeededSource();
    void heartbeatsGetReplies();
    void heartbeatTimeoutDropsConnection();
    void handshakeTimeoutOnFrozenServer();
    void reconnectsAfterServerRestart();
    void disconnectStopsEveryTimer();
    void disconnectWhileReconnecting();
    void connectionRefusedRetries();
    void fiveHundredSockets();
};

void TestPhoenixSocket::initTestCase()
{
    if (!QFile::exists(OmwServerProcess::binaryPath()))
        QSKIP("omw-server is not built; build the omw-server target first");
}

void TestPhoenixSocket::websocketUrl_data()
{
    QTest::addColumn<QString>("endpoint");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "ws://127.0.0.1:4000/socket"
                           << "ws://127.0.0.1:4000/socket/websocket?vsn=2.0.0";
    QTest::newRow("trailing slash") << "ws://127.0.0.1:4000/socket/"
                                    << "ws://127.0.0.1:4000/socket/websocket?vsn=2.0.0";
    QTest::newRow("tls with query") << "wss://example.invalid/socket?app=omw"
                                    << "wss://example.invalid/socket/websocket?app=omw&vsn=2.0.0";
    QTest::newRow("full path with old vsn") << "ws://127.0.0.1/socket/websocket?vsn=1.0.0"
                                            << "ws://127.0.0.1/socket/websocket?vsn=2.0.0";
}

void TestPhoenixSocket::websocketUrl()
{
    QFETCH(QString, endpoint);
    QFETCH(QString, expected);
    const Socket socket {QUrl(endpoint)};
    QCOMPARE(socket.websocketUrl().toString(), expected);
}

void TestPhoenixSocket::invalidEndpoint_data()
{
    QTest::addColumn<QString>("endpoint");
    QTest::newRow("http scheme") << "http://127.0.0.1:4000/socket";
    QTest::newRow("no host") << "ws:///socket";
    QTest::newRow("empty") << "";
}

void TestPhoenixSocket::invalidEndpoint()
{
    QFETCH(QString, endpoint);
    Socket socket {QUrl(endpoint)};
    QSignalSpy errors(&socket, &Socket::errorOccurred);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("Invalid server URL")));
    socket.connectToServer();
    QCOMPARE(errors.count(), 1);
    QCOMPARE(errors.at(0).at(0).value<Socket::Error>(), Socket::Error::InvalidEndpoint);
    QCOMPARE(socket.state(), Socket::State::Disconnected);
    QVERIFY(socket.errorString().contains(QLatin1String("ws://HOST:PORT/socket")));
    QCOMPARE(socket.activeTimerCount(), 0);
}

void TestPhoenixSocket::reconnectDelayCap_data()
{
    QTest::addColumn<int>("base");
    QTest::addColumn<int>("maximum");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<int>("cap");
    QTest::newRow("first attempt") << 1000 << 30000 << 1 << 1000;
    QTest::newRow("second attempt doubles") << 1000 << 30000 << 2 << 2000;
    QTest::newRow("fifth attempt, below max") << 1000 << 30000 << 5 << 16000;
    QTest::newRow("sixth attempt, clamped to max") << 1000 << 30000 << 6 << 30000;
    QTest::newRow("attempt far beyond overflow") << 1000 << 30000 << 200 << 30000;
    QTest::newRow("max equal to base") << 500 << 500 << 3 << 500;
    QTest::newRow("attempt 0 treated as first") << 250 << 30000 << 0 << 250;
}

void TestPhoenixSocket::reconnectDelayCap()
{
    QFETCH(int, base);
    QFETCH(int, maximum);
    QFETCH(int, attempt);
    QFETCH(int, cap);
    Socket socket {QUrl(QStringLiteral("ws://127.0.0.1:1/socket"))};
    socket.setReconnectBaseDelay(base);
    socket.setReconnectMaxDelay(maximum);
    QCOMPARE(socket.reconnectDelayCap(attempt), cap);
}

void TestPhoenixSocket::jitterBoundsWithFixedSource()
{
    Socket socket {QUrl(QStringLiteral("ws://127.0.0.1:1/socket"))};
    socket.setReconnectBaseDelay(1000);
    socket.setReconnectMaxDelay(30000);

    socket.setRandomSource([] { return 0.0; });
    QCOMPARE(socket.reconnectDelay(1), 0);
    QCOMPARE(socket.reconnectDelay(10), 0);

    socket.setRandomSource([] { return std::nextafter(1.0, 0.0); });
    QCOMPARE(socket.reconnectDelay(1), 1000);
    QCOMPARE(socket.reconnectDelay(3), 4000);
    QCOMPARE(socket.reconnectDelay(10), 30000);

    socket.setRandomSource([] { return 0.5; });
    QCOMPARE(socket.reconnectDelay(1), 500); // floor(0.5 * 1001)
    QCOMPARE(socket.reconnectDelay(2), 1000); // floor(0.5 * 2001)

    // A source outside [0, 1) is clamped, never producing a delay above the cap.
    socket.setRandomSource([] { return 7.0; });
    QCOMPARE(socket.reconnectDelay(2), 2000);
    socket.setRandomSource([] { return -1.0; });
    QCOMPARE(socket.reconnectDelay(2), 0);
}

void TestPhoenixSocket::jitterBoundsWithSeededSource()
{
    Socket socket {QUrl(QStringLiteral("ws://127.0.0.1:1/socket"))};
    socket.setReconnectBaseDelay(1000);
    socket.setReconnectMaxDelay(30000);
    QRandomGenerator generator(20240611);
    socket.setRandomSource([&generator] { return generator.generateDouble(); });

    const int samples = 4000;
    for (int attempt : {1, 3, 8}) {
        const int cap = socket.reconnectDelayCap(attempt);
        int minimum = cap;
        int maximum = 0;
        double sum = 0;
        for (int i = 0; i < samples; ++i) {
            const int delay = socket.reconnectDelay(attempt);
            QVERIFY2(delay >= 0 && delay <= cap,
                     qPrintable(QStringLiteral("delay %1 outside [0, %2]").arg(delay).arg(cap)));
            minimum = std::min(minimum, delay);
            maximum = std::max(maximum, delay);
            sum += delay;
        }
        // Full jitter spreads over the whole range, not around the cap.
        QVERIFY2(minimum < cap / 20, qPrintable(QString::number(minimum)));
        QVERIFY2(maximum > cap - cap / 20, qPrintable(QString::number(maximum)));
        const double mean = sum / samples;
        QVERIFY2(std::abs(mean - cap / 2.0) < cap * 0.05, qPrintable(QString::number(mean)));
    }
}

void TestPhoenixSocket::heartbeatsGetReplies()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    Socket socket(server.socketUrl());
    socket.setHeartbeatInterval(100);
    socket.setHeartbeatTimeout(2000);
    int heartbeatReplies = 0;
    connect(&socket, &Socket::messageReceived, this, [&heartbeatReplies](const Message &message) {
        if (message.topic == Omw::Phoenix::phoenixTopic
            && message.event == Omw::Phoenix::Event::reply
            && message.payload.toObject().value(QLatin1String("status")) == QLatin1String("ok"))
            ++heartbeatReplies;
    });
    QSignalSpy errors(&socket, &Socket::errorOccurred);
    socket.connectToServer();
    QTRY_VERIFY_WITH_TIMEOUT(heartbeatReplies >= 3, 5000);
    QCOMPARE(errors.count(), 0);
    QCOMPARE(socket.state(), Socket::State::Connected);
    QVERIFY(socket.activeTimerCount() >= 1);
}

void TestPhoenixSocket::heartbeatTimeoutDropsConnection()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    Socket socket(server.socketUrl());
    socket.setHeartbeatInterval(200);
    socket.setHeartbeatTimeout(300);
    socket.setReconnectBaseDelay(50);
    socket.setReconnectMaxDelay(200);
    QSignalSpy connected(&socket, &Socket::connected);
    QSignalSpy errors(&socket, &Socket::errorOccurred);
    socket.connectToServer();
    QVERIFY(connected.wait(5000));

    server.suspend();
    QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, 5000);
    QCOMPARE(errors.at(0).at(0).value<Socket::Error>(), Socket::Error::HeartbeatTimedOut);
    QVERIFY2(socket.errorString().contains(QLatin1String("300 ms")),
             qPrintable(socket.errorString()));
    QVERIFY(socket.state() == Socket::State::Reconnecting
            || socket.state() == Socket::State::Connecting);

    server.resume();
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, 10000);
    QCOMPARE(socket.state(), Socket::State::Connected);
}

void TestPhoenixSocket::handshakeTimeoutOnFrozenServer()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    // The kernel still accepts TCP connections for a stopped process, but the handshake stalls.
    server.suspend();
    Socket socket(server.socketUrl());
    socket.setHeartbeatTimeout(300);
    socket.setReconnectBaseDelay(50);
    socket.setReconnectMaxDelay(100);
    QSignalSpy errors(&socket, &Socket::errorOccurred);
    QSignalSpy connected(&socket, &Socket::connected);
    socket.connectToServer();
    QCOMPARE(socket.activeTimerCount(), 1); // the handshake timeout
    QVERIFY(errors.wait(5000));
    QCOMPARE(errors.at(0).at(0).value<Socket::Error>(), Socket::Error::ConnectionFailed);
    QVERIFY2(socket.errorString().contains(QLatin1String("handshake did not complete within 300")),
             qPrintable(socket.errorString()));

    server.resume();
    QVERIFY(connected.wait(10'000));
    QCOMPARE(socket.activeTimerCount(), 1); // the heartbeat alone
}

void TestPhoenixSocket::reconnectsAfterServerRestart()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const quint16 port = server.port();

    Socket socket(server.socketUrl());
    socket.setReconnectBaseDelay(100);
    socket.setReconnectMaxDelay(400);
    Channel *channel = socket.channel(QStringLiteral("onboarding"));
    QSignalSpy connected(&socket, &Socket::connected);
    QSignalSpy disconnected(&socket, &Socket::disconnected);
    QSignalSpy errors(&socket, &Socket::errorOccurred);
    QSignalSpy scheduled(&socket, &Socket::reconnectScheduled);
    QSignalSpy joined(channel, &Channel::joined);
    channel->join();
    socket.connectToServer();
    QVERIFY(joined.wait(5000));
    const QString firstJoinRef = channel->joinRef();
    QVERIFY(!firstJoinRef.isEmpty());

    server.stop();
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), 1, 5000);
    QCOMPARE(errors.at(0).at(0).value<Socket::Error>(), Socket::Error::ConnectionLost);
    QCOMPARE(channel->state(), Channel::State::Errored);
    // Wait for two refused attempts so that the backoff is seen growing within its caps.
    QTRY_VERIFY_WITH_TIMEOUT(scheduled.count() >= 3, 5000);
    for (const QList<QVariant> &arguments : std::as_const(scheduled)) {
        const int attempt = arguments.at(0).toInt();
        const int delay = arguments.at(1).toInt();
        QVERIFY(delay >= 0);
        QVERIFY2(delay <= socket.reconnectDelayCap(attempt),
                 qPrintable(QStringLiteral("attempt %1 delay %2").arg(attempt).arg(delay)));
    }
    QCOMPARE(scheduled.at(0).at(0).toInt(), 1);
    QCOMPARE(scheduled.at(1).at(0).toInt(), 2);

    QVERIFY2(server.start(port), qPrintable(server.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(joined.count(), 2, 5000);
    QCOMPARE(channel->state(), Channel::State::Joined);
    QVERIFY(!channel->joinRef().isEmpty());
    QVERIFY(channel->joinRef() != firstJoinRef);
    QCOMPARE(socket.reconnectAttempt(), 0);
}

void TestPhoenixSocket::disconnectStopsEveryTimer()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    Socket socket(server.socketUrl());
    socket.setHeartbeatInterval(50);
    Channel *channel = socket.channel(QStringLiteral("onboarding"));
    QSignalSpy joined(channel, &Channel::joined);
    channel->join();
    socket.connectToServer();
    QVERIFY(joined.wait(5000));
    QVERIFY(socket.activeTimerCount() >= 1);

    // A push in flight and an unanswered heartbeat add their timers.
    server.suspend();
    channel->push(QStringLiteral("CREATE_SESSION"), {}, 60'000);
    QTRY_VERIFY_WITH_TIMEOUT(socket.activeTimerCount() >= 3, 2000);

    QSignalSpy stateChanges(&socket, &Socket::stateChanged);
    QSignalSpy scheduled(&socket, &Socket::reconnectScheduled);
    QSignalSpy frames(&socket, &Socket::messageReceived);
    socket.disconnectFromServer();
    QCOMPARE(socket.activeTimerCount(), 0);
    QCOMPARE(socket.state(), Socket::State::Disconnected);
    QCOMPARE(stateChanges.count(), 1);
    server.resume();

    // Nothing may happen afterwards: no heartbeat, no reconnect, no frame.
    QVERIFY(!stateChanges.wait(500));
    QCOMPARE(scheduled.count(), 0);
    QCOMPARE(frames.count(), 0);
    QCOMPARE(socket.activeTimerCount(), 0);
}

void TestPhoenixSocket::disconnectWhileReconnecting()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    Socket socket(server.socketUrl());
    socket.setReconnectBaseDelay(2000);
    socket.setReconnectMaxDelay(2000);
    socket.setRandomSource([] { return 0.99; });
    QSignalSpy connected(&socket, &Socket::connected);
    QSignalSpy scheduled(&socket, &Socket::reconnectScheduled);
    socket.connectToServer();
    QVERIFY(connected.wait(5000));

    server.stop();
    QVERIFY(scheduled.wait(5000));
    QCOMPARE(socket.state(), Socket::State::Reconnecting);
    QCOMPARE(socket.activeTimerCount(), 1);

    socket.disconnectFromServer();
    QCOMPARE(socket.activeTimerCount(), 0);
    QCOMPARE(socket.state(), Socket::State::Disconnected);
    QSignalSpy stateChanges(&socket, &Socket::stateChanged);
    QVERIFY(!stateChanges.wait(2500)); // past the 1980 ms the reconnect was due at
    QCOMPARE(scheduled.count(), 1);
}

void TestPhoenixSocket::connectionRefusedRetries()
{
    // A port with no listener: take a free one from a server that is then stopped.
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const QUrl url = server.socketUrl();
    server.stop();

    Socket socket(url);
    socket.setReconnectBaseDelay(10);
    socket.setReconnectMaxDelay(20);
    QSignalSpy errors(&socket, &Socket::errorOccurred);
    QSignalSpy scheduled(&socket, &Socket::reconnectScheduled);
    socket.connectToServer();
    QTRY_VERIFY_WITH_TIMEOUT(scheduled.count() >= 3, 5000);
    QCOMPARE(errors.at(0).at(0).value<Socket::Error>(), Socket::Error::ConnectionFailed);
    QCOMPARE(scheduled.at(2).at(0).toInt(), 3);
    socket.disconnectFromServer();
    QCOMPARE(socket.activeTimerCount(), 0);
}

void TestPhoenixSocket::fiveHundredSockets()
{
    OmwServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const int count = 500;
    std::vector<std::unique_ptr<Socket>> sockets;
    int joinedCount = 0;
    for (int i = 0; i < count; ++i) {
        auto socket = std::make_unique<Socket>(server.socketUrl());
        Channel *channel = socket->channel(QStringLiteral("onboarding"));
        connect(channel, &Channel::joined, this, [&joinedCount] { ++joinedCount; });
        channel->join();
        socket->connectToServer();
        sockets.push_back(std::move(socket));
    }
    QTRY_COMPARE_WITH_TIMEOUT(joinedCount, count, 60'000);
    for (const auto &socket : sockets) {
        QCOMPARE(socket->state(), Socket::State::Connected);
        QCOMPARE(socket->activeTimerCount(), 1); // the heartbeat timer alone
    }
    for (const auto &socket : sockets)
        socket->disconnectFromServer();
    for (const auto &socket : sockets)
        QCOMPARE(socket->activeTimerCount(), 0);
}

QTEST_GUILESS_MAIN(TestPhoenixSocket)
#include "tst_phoenixsocket.moc"
