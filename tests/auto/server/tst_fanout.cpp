#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QDateTime>

#include <memory>
#include <vector>

using Omw::Server;
using Omw::ServerConfig;

// One ride with many followers: each follower receives every point of a burst, in order, with
// the exact values the rider sent.
class tst_Fanout : public QObject
{
    Q_OBJECT

private slots:
    void twoHundredFollowersReceiveEveryPoint();
};

void tst_Fanout::twoHundredFollowersReceiveEveryPoint()
{
    constexpr int followerCount = 200;
    constexpr int pointCount = 50;

    ServerConfig config;
    config.port = 0;
    Server server(config);
    QVERIFY2(server.listen(), qPrintable(server.errorString()));
    const quint16 port = server.serverPort();

    // The ride is live before anyone follows, so the follow-join rate for rides that are not
    // live does not apply.
    TestClient rider;
    QVERIFY(rider.open(port));
    QCOMPARE(rider.join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"))["status"],
             QJsonValue("ok"));

    std::vector<std::unique_ptr<TestClient>> followers;
    for (int i = 0; i < followerCount; ++i) {
        followers.push_back(std::make_unique<TestClient>());
        followers.back()->socket().open(
            QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/websocket?vsn=2.0.0").arg(port)));
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), followerCount + 1, 20000);
    for (const auto &follower : followers) {
        QTRY_COMPARE(follower->socket().state(), QAbstractSocket::ConnectedState);
        follower->send("1", "1", QStringLiteral("following:brave-otter"),
                       QStringLiteral("phx_join"));
    }
    for (const auto &follower : followers) {
        QCOMPARE(follower->next()[4]["status"], QJsonValue("ok"));
    }
    QCOMPARE(server.sessions()->followerCount(QStringLiteral("brave-otter")), followerCount);

    // The burst: every value differs from point to point.
    const qint64 start = QDateTime::currentMSecsSinceEpoch() - 60'000;
    QList<QJsonObject> expected;
    for (int i = 0; i < pointCount; ++i) {
        const QJsonObject point {{"latitude", 48.1 + i * 0.001},
                                 {"longitude", 8.2 - i * 0.002},
                                 {"speed", 10 + i * 0.25},
                                 {"heading", i * 7.1},
                                 {"accuracy", 3 + i * 0.5},
                                 {"altitude", 250 + i},
                                 {"timestamp", double(start + i * 1000)}};
        rider.send("1", QString::number(i + 2), QStringLiteral("tracking:brave-otter"),
                   QStringLiteral("NEW_COORDS"), point);
        QJsonObject broadcast = point;
        broadcast.insert("slug", "brave-otter");
        expected.append(broadcast);
    }
    QVERIFY(rider.waitForFrames(pointCount));
    for (int i = 0; i < pointCount; ++i) {
        QCOMPARE(rider.next()[4]["status"], QJsonValue("ok"));
    }

    // received_at is the server's, taken once per point, so every follower sees the same value.
    QList<double> receivedAt;
    for (int f = 0; f < followerCount; ++f) {
        TestClient *follower = followers.at(size_t(f)).get();
        QVERIFY2(follower->waitForFrames(pointCount, 10000),
                 qPrintable(QStringLiteral("follower %1 has %2 of %3 points")
                                .arg(f)
                                .arg(follower->unread())
                                .arg(pointCount)));
        for (int i = 0; i < pointCount; ++i) {
            const QJsonArray frame = follower->next().toArray();
            QCOMPARE(frame.at(0), QJsonValue(QJsonValue::Null));
            QCOMPARE(frame.at(1), QJsonValue(QJsonValue::Null));
            QCOMPARE(frame.at(2), QJsonValue("following:brave-otter"));
            QCOMPARE(frame.at(3), QJsonValue("NEW_COORDS"));
            QJsonObject payload = frame.at(4).toObject();
            const double received = payload.take("received_at").toDouble();
            if (f == 0) {
                receivedAt.append(received);
            } else {
                QCOMPARE(received, receivedAt.at(i));
            }
            QCOMPARE(payload, expected.at(i));
        }
        QCOMPARE(follower->unread(), 0);
    }
    QCOMPARE(server.metrics().positionsAccepted, quint64(pointCount));
}

QTEST_GUILESS_MAIN(tst_Fanout)
#include "tst_fanout.moc"
