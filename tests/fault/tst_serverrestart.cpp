#include "faultserver.h"
#include "phoenixchannel.h"
#include "phoenixsocket.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <vector>

using Omw::Phoenix::Channel;
using Omw::Phoenix::Socket;

// omw-server killed and restarted on the same port under 500 connected clients of the project's
// own client library: riders and followers must come back spread out by the reconnect jitter,
// rejoin their channels, and the rides must go on.
class tst_ServerRestart : public QObject
{
    Q_OBJECT

private slots:
    void restartUnderFiveHundredClients();
};

namespace {

constexpr int clientCount = 500;
constexpr int riderCount = 10;
constexpr int reconnectBaseDelay = 1000; // milliseconds
constexpr int reconnectMaxDelay = 8000;
constexpr int downtime = 3000; // milliseconds between the kill and the restart

struct Client
{
    std::unique_ptr<Socket> socket;
    Channel *channel = nullptr;
    bool rider = false;
    // When the client library scheduled the successful attempt
    // (the moment its jittered delay ran out), when the attempt started, and when it completed.
    // Only the first is the library's own choice; the start also waits for this process's event
    // loop, which serves 500 sockets, and the completion waits for the server too.
    qint64 attemptScheduledAt = -1;
    qint64 attemptStartedAt = -1;
    qint64 reconnectScheduledAt = -1;
    qint64 reconnectStartedAt = -1;
    qint64 reconnectedAt = -1;
    int positionsAfterRestart = 0;
};

} // namespace

void tst_ServerRestart::restartUnderFiveHundredClients()
{
    // 500 clients log every failed attempt while the server is down; the figures below suffice.
    QLoggingCategory::setFilterRules(QStringLiteral("omw.client.*=false"));
    // Followers that rejoin before their rider see a ride that is not live yet, so the follow
    // join limit per address would turn loopback followers away.
    const QStringList arguments {QStringLiteral("--follow-join-rate"), QStringLiteral("100000"),
                                 QStringLiteral("--follow-join-burst"), QStringLiteral("100000")};
    FaultServer server;
    QVERIFY2(server.start(0, arguments), qPrintable(server.errorString()));
    const quint16 port = server.port();
    const QUrl endpoint(QStringLiteral("ws://127.0.0.1:%1/socket").arg(port));

    // Every time below is in milliseconds on this clock; restartAt is when the server restarted.
    QElapsedTimer clock;
    clock.start();
    qint64 restartAt = -1;
    bool restarted = false;
    std::vector<Client> clients(clientCount);
    for (int i = 0; i < clientCount; ++i) {
        Client &client = clients[size_t(i)];
        client.rider = i < riderCount;
        client.socket = std::make_unique<Socket>(endpoint);
        Socket *socket = client.socket.get();
        socket->setReconnectBaseDelay(reconnectBaseDelay);
        socket->setReconnectMaxDelay(reconnectMaxDelay);
        socket->setHeartbeatInterval(60'000);
        const QString slug = QStringLiteral("restart-ride-%1").arg(i % riderCount);
        client.channel = socket->channel(
            (client.rider ? QStringLiteral("tracking:") : QStringLiteral("following:")) + slug);
        connect(socket, &Socket::stateChanged, this, [&client, &clock](Socket::State state) {
            if (state == Socket::State::Connecting) {
                client.attemptStartedAt = clock.elapsed();
            }
        });
        connect(socket, &Socket::reconnectScheduled, this, [&client, &clock](int, int delay) {
            client.attemptScheduledAt = clock.elapsed() + delay;
        });
        connect(socket, &Socket::connected, this, [&client, &clock, &restarted] {
            if (restarted && client.reconnectedAt < 0) {
                client.reconnectedAt = clock.elapsed();
                client.reconnectStartedAt = client.attemptStartedAt;
                client.reconnectScheduledAt = client.attemptScheduledAt;
            }
        });
        connect(client.channel, &Channel::messageReceived, this,
                [&client, &restarted](const QString &event, const QJsonObject &) {
                    if (restarted && event == QLatin1String("NEW_COORDS")) {
                        ++client.positionsAfterRestart;
                    }
                });
        client.channel->join();
        socket->connectToServer();
    }
    const auto joinedCount = [&clients] {
        return std::count_if(clients.cbegin(), clients.cend(),
                             [](const Client &client) { return client.channel->isJoined(); });
    };
    QTRY_COMPARE_WITH_TIMEOUT(joinedCount(), qsizetype(clientCount), 60'000);

    // Riders publish every 200 ms while joined.
    int published = 0;
    QTimer publisher;
    connect(&publisher, &QTimer::timeout, this, [&clients, &published] {
        ++published;
        for (int i = 0; i < riderCount; ++i) {
            Channel *channel = clients[size_t(i)].channel;
            if (channel->isJoined()) {
                channel->push(QStringLiteral("NEW_COORDS"),
                              QJsonObject {{QStringLiteral("latitude"), 45.2 + published * 1e-5},
                                           {QStringLiteral("longitude"), 13.6 + i * 1e-3}});
            }
        }
    });
    publisher.start(200);

    server.kill();
    QTest::qWait(downtime);
    restarted = true;
    restartAt = clock.elapsed();
    QVERIFY2(server.start(port, arguments), qPrintable(server.errorString()));

    const auto reconnectedCount = [&clients] {
        return std::count_if(clients.cbegin(), clients.cend(),
                             [](const Client &client) { return client.reconnectedAt >= 0; });
    };
    QTRY_COMPARE_WITH_TIMEOUT(reconnectedCount(), qsizetype(clientCount), reconnectMaxDelay * 3);
    QTRY_COMPARE_WITH_TIMEOUT(joinedCount(), qsizetype(clientCount), 30'000);
    const auto followersWithPositions = [&clients] {
        return std::count_if(clients.cbegin(), clients.cend(), [](const Client &client) {
            return !client.rider && client.positionsAfterRestart > 0;
        });
    };
    QTRY_COMPARE_WITH_TIMEOUT(followersWithPositions(), qsizetype(clientCount - riderCount),
                              30'000);

    // The densest 100 ms windows of reconnections, by attempt start and by completion.
    const auto densestWindow = [&clients](qint64 Client::*time) {
        std::vector<qint64> times;
        for (const Client &client : clients) {
            times.push_back(client.*time);
        }
        std::sort(times.begin(), times.end());
        qsizetype densest = 0;
        for (size_t first = 0, last = 0; last < times.size(); ++last) {
            while (times[last] - times[first] >= 100) {
                ++first;
            }
            densest = std::max(densest, qsizetype(last - first + 1));
        }
        return densest;
    };
    const qsizetype densestSchedules = densestWindow(&Client::reconnectScheduledAt);
    const qsizetype densestStarts = densestWindow(&Client::reconnectStartedAt);
    const qsizetype densestCompletions = densestWindow(&Client::reconnectedAt);
    const auto [earliest, latest] = std::minmax_element(
        clients.cbegin(), clients.cend(),
        [](const Client &a, const Client &b) { return a.reconnectedAt < b.reconnectedAt; });
    qInfo("500 clients reconnected between %lld and %lld ms after the restart; the densest "
          "100 ms window held %lld scheduled attempts, %lld attempt starts and %lld completed "
          "handshakes",
          earliest->reconnectedAt - restartAt, latest->reconnectedAt - restartAt,
          qint64(densestSchedules), qint64(densestStarts), qint64(densestCompletions));
    for (const Client &client : clients) {
        QVERIFY(client.reconnectScheduledAt >= 0);
    }
    QVERIFY2(densestSchedules <= clientCount / 10, qPrintable(QString::number(densestSchedules)));

    publisher.stop();
    for (Client &client : clients) {
        client.socket->disconnectFromServer();
    }
    QCOMPARE(server.stop(), 0);
}

QTEST_GUILESS_MAIN(tst_ServerRestart)
#include "tst_serverrestart.moc"
