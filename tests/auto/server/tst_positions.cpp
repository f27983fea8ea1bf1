#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QDateTime>
#include <QRegularExpression>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;

// NEW_COORDS over real sockets: every reply code with its exact message, both sides of each
// numeric boundary, and what the followers receive for accepted points.
class tst_Positions : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void rejectedPoint_data();
    void rejectedPoint();
    void acceptedPoint_data();
    void acceptedPoint();
    void timestampFiveMinutesAhead();
    void timestampJustOverFiveMinutesAhead();
    void outOfOrder();
    void equalTimestampAccepted();
    void exactRepeatAcknowledgedOnce();
    void noFixAllowedByOption();
    void deviceTimestampKept();

private:
    void startServer(const ServerConfig &config = ServerConfig());
    // Sends NEW_COORDS with `payload` (JSON text) under ref `ref` and returns the reply frame.
    QJsonValue sendPoint(const QByteArray &payload, const QString &ref);

    std::unique_ptr<Server> m_server;
    std::unique_ptr<TestClient> m_rider;
    std::unique_ptr<TestClient> m_follower;
};

static const QString topic = QStringLiteral("tracking:brave-otter");

void tst_Positions::init()
{
    startServer();
}

void tst_Positions::cleanup()
{
    m_rider.reset();
    m_follower.reset();
    m_server.reset();
}

void tst_Positions::startServer(const ServerConfig &base)
{
    m_rider.reset();
    m_follower.reset();
    ServerConfig config = base;
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
    m_rider = std::make_unique<TestClient>();
    m_follower = std::make_unique<TestClient>();
    QVERIFY(m_rider->open(m_server->serverPort()));
    QVERIFY(m_follower->open(m_server->serverPort()));
    QCOMPARE(m_follower->join(QStringLiteral("following:brave-otter"),
                              QStringLiteral("1"))[QStringLiteral("status")],
             QJsonValue("ok"));
    QCOMPARE(m_rider->join(topic, QStringLiteral("1"))[QStringLiteral("status")], QJsonValue("ok"));
}

QJsonValue tst_Positions::sendPoint(const QByteArray &payload, const QString &ref)
{
    m_rider->sendText(R"(["1",")" + ref.toUtf8() + R"(","tracking:brave-otter","NEW_COORDS",)"
                      + payload + "]");
    return m_rider->next();
}

static QJsonValue okReply(const QString &ref)
{
    return QJsonArray {"1", ref, topic, "phx_reply",
                       QJsonObject {{"status", "ok"}, {"response", QJsonObject()}}};
}

static QJsonValue errorReply(const QString &ref, const QString &reason, const QString &message)
{
    return QJsonArray {
        "1", ref, topic, "phx_reply",
        QJsonObject {{"status", "error"},
                     {"response", QJsonObject {{"reason", reason}, {"message", message}}}}};
}

// Returns the payload of the follower's next frame after checking that it is a NEW_COORDS
// broadcast.
static QJsonObject nextBroadcast(TestClient *follower)
{
    const QJsonArray frame = follower->next().toArray();
    if (frame.size() != 5 || frame.at(0) != QJsonValue(QJsonValue::Null)
        || frame.at(1) != QJsonValue(QJsonValue::Null)
        || frame.at(2) != QJsonValue("following:brave-otter")
        || frame.at(3) != QJsonValue("NEW_COORDS")) {
        qWarning() << "not a NEW_COORDS broadcast:" << frame;
        return QJsonObject();
    }
    return frame.at(4).toObject();
}

void tst_Positions::rejectedPoint_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("message");

    const QString notObject = QStringLiteral(
        "payload %1 is not a JSON object: send {\"latitude\": ..., \"longitude\": ..., "
        "\"speed\": ..., \"heading\": ...}");
    QTest::newRow("payload array")
        << QByteArray("[48.2,8.4]") << "invalid_payload" << notObject.arg("[48.2,8.4]");
    QTest::newRow("payload string")
        << QByteArray(R"("48.2,8.4")") << "invalid_payload" << notObject.arg(R"("48.2,8.4")");
    QTest::newRow("payload number") << QByteArray("42") << "invalid_payload" << notObject.arg("42");
    QTest::newRow("payload null") << QByteArray("null") << "invalid_payload"
                                  << notObject.arg("null");

    const QString latitudeRange
        = QStringLiteral("latitude %1 is out of range: expected degrees in [-90, 90]");
    const QString longitudeRange
        = QStringLiteral("longitude %1 is out of range: expected degrees in [-180, 180]");
    QTest::newRow("latitude 90.000001") << QByteArray(R"({"latitude":90.000001,"longitude":8.4})")
                                        << "invalid_coordinates" << latitudeRange.arg("90.000001");
    QTest::newRow("latitude -90.000001")
        << QByteArray(R"({"latitude":-90.000001,"longitude":8.4})") << "invalid_coordinates"
        << latitudeRange.arg("-90.000001");
    QTest::newRow("longitude 180.000001")
        << QByteArray(R"({"latitude":48.2,"longitude":180.000001})") << "invalid_coordinates"
        << longitudeRange.arg("180.000001");
    QTest::newRow("longitude -180.000001")
        << QByteArray(R"({"latitude":48.2,"longitude":-180.000001})") << "invalid_coordinates"
        << longitudeRange.arg("-180.000001");
    QTest::newRow("latitude missing")
        << QByteArray(R"({"longitude":8.4,"speed":1})") << "invalid_coordinates"
        << "latitude is missing: it is required, in WGS 84 degrees";
    QTest::newRow("latitude null")
        << QByteArray(R"({"latitude":null,"longitude":8.4})") << "invalid_coordinates"
        << "latitude is missing: it is required, in WGS 84 degrees";
    QTest::newRow("longitude missing")
        << QByteArray(R"({"latitude":48.2})") << "invalid_coordinates"
        << "longitude is missing: it is required, in WGS 84 degrees";
    QTest::newRow("latitude numeric string")
        << QByteArray(R"({"latitude":"48.2","longitude":8.4})") << "invalid_coordinates"
        << R"(latitude "48.2" is not a number (a string; send a JSON number))";
    QTest::newRow("longitude numeric string")
        << QByteArray(R"({"latitude":48.2,"longitude":"8.4"})") << "invalid_coordinates"
        << R"(longitude "8.4" is not a number (a string; send a JSON number))";
    QTest::newRow("latitude boolean")
        << QByteArray(R"({"latitude":true,"longitude":8.4})") << "invalid_coordinates"
        << "latitude true is not a number";

    QTest::newRow("speed numeric string")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"speed":"3.5"})") << "invalid_speed"
        << R"(speed "3.5" is not a number (a string; send a JSON number): expected metres per second, or null when unknown)";
    QTest::newRow("speed object")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"speed":{}})") << "invalid_speed"
        << "speed {} is not a number: expected metres per second, or null when unknown";

    QTest::newRow("heading 360.0001")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"heading":360.0001})")
        << "invalid_heading"
        << "heading 360.0001 is out of range: expected degrees in [0, 360), or null when unknown";
    QTest::newRow("heading numeric string")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"heading":"90"})") << "invalid_heading"
        << R"(heading "90" is not a number (a string; send a JSON number): expected degrees clockwise from true north, or null when unknown)";

    const QString timestampRange = QStringLiteral(
        "timestamp %1 is out of range: expected UTC milliseconds since the Unix epoch, after "
        "2000-01-01 (seconds are not accepted)");
    QTest::newRow("timestamp just before 2000")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":946684799999})")
        << "invalid_timestamp" << timestampRange.arg("946684799999");
    QTest::newRow("timestamp in seconds")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":1764860123})")
        << "invalid_timestamp" << timestampRange.arg("1764860123");
    QTest::newRow("timestamp beyond 2^53")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":1e16})")
        << "invalid_timestamp" << timestampRange.arg("1e+16");
    QTest::newRow("timestamp numeric string")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":"1764860123000"})")
        << "invalid_timestamp"
        << R"(timestamp "1764860123000" is not a number (a string; send a JSON number): expected UTC milliseconds since the Unix epoch)";

    QTest::newRow("accuracy negative")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"accuracy":-1})") << "invalid_payload"
        << "accuracy -1 is invalid: expected metres, 0 or more, or null when unknown";
    QTest::newRow("accuracy numeric string")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"accuracy":"5"})") << "invalid_payload"
        << R"(accuracy "5" is invalid (a string; send a JSON number): expected metres, 0 or more, or null when unknown)";
    QTest::newRow("altitude numeric string")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"altitude":"12"})") << "invalid_payload"
        << R"(altitude "12" is invalid (a string; send a JSON number): expected metres, or null when unknown)";

    QTest::newRow("no fix at 0,0")
        << QByteArray(R"({"latitude":0,"longitude":0,"speed":0,"heading":0})") << "no_fix"
        << "latitude 0 and longitude 0 is what receivers report without a fix: send a point "
           "only once the device has one";
}

void tst_Positions::rejectedPoint()
{
    QFETCH(QByteArray, payload);
    QFETCH(QString, reason);
    QFETCH(QString, message);

    QCOMPARE(sendPoint(payload, QStringLiteral("2")), errorReply("2", reason, message));
    // The channel stays joined, the next valid point is accepted, and the follower's next frame
    // is that point: the rejected one was never broadcast.
    QCOMPARE(sendPoint(R"({"latitude":48.25,"longitude":8.5})", QStringLiteral("3")), okReply("3"));
    const QJsonObject broadcast = nextBroadcast(m_follower.get());
    QCOMPARE(broadcast.value(QStringLiteral("latitude")), QJsonValue(48.25));
    QCOMPARE(m_follower->unread(), 0);
    quint64 rejected = 0;
    for (const quint64 count : m_server->metrics().positionsRejected) {
        rejected += count;
    }
    QCOMPARE(rejected, quint64(1));
}

void tst_Positions::acceptedPoint_data()
{
    QTest::addColumn<QByteArray>("payload");
    // The expected broadcast without received_at; without timestamp when the point has none,
    // because the server then uses its receive time.
    QTest::addColumn<QJsonObject>("expected");

    auto expected = [](double latitude, double longitude, const QJsonValue &speed,
                       const QJsonValue &heading) {
        return QJsonObject {{"latitude", latitude},
                            {"longitude", longitude},
                            {"speed", speed},
                            {"heading", heading},
                            {"slug", "brave-otter"}};
    };
    const QJsonValue null(QJsonValue::Null);

    QTest::newRow("latitude 90") << QByteArray(R"({"latitude":90,"longitude":8.4})")
                                 << expected(90, 8.4, null, null);
    QTest::newRow("latitude -90") << QByteArray(R"({"latitude":-90,"longitude":8.4})")
                                  << expected(-90, 8.4, null, null);
    QTest::newRow("longitude 180")
        << QByteArray(R"({"latitude":48.2,"longitude":180})") << expected(48.2, 180, null, null);
    QTest::newRow("longitude -180")
        << QByteArray(R"({"latitude":48.2,"longitude":-180})") << expected(48.2, -180, null, null);
    QTest::newRow("next to 0,0") << QByteArray(R"({"latitude":0,"longitude":0.000001})")
                                 << expected(0, 0.000001, null, null);
    QTest::newRow("speed 0") << QByteArray(R"({"latitude":48.2,"longitude":8.4,"speed":0})")
                             << expected(48.2, 8.4, 0, null);
    QTest::newRow("speed -1 unknown")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"speed":-1})")
        << expected(48.2, 8.4, null, null);
    QTest::newRow("speed -0.5 unknown")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"speed":-0.5})")
        << expected(48.2, 8.4, null, null);
    QTest::newRow("speed null") << QByteArray(R"({"latitude":48.2,"longitude":8.4,"speed":null})")
                                << expected(48.2, 8.4, null, null);
    QTest::newRow("heading 0") << QByteArray(R"({"latitude":48.2,"longitude":8.4,"heading":0})")
                               << expected(48.2, 8.4, null, 0);
    QTest::newRow("heading 359.999")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"heading":359.999})")
        << expected(48.2, 8.4, null, 359.999);
    QTest::newRow("heading 360 becomes 0")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"heading":360})")
        << expected(48.2, 8.4, null, 0);
    QTest::newRow("heading -1 unknown")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"heading":-1})")
        << expected(48.2, 8.4, null, null);
    QTest::newRow("heading null") << QByteArray(
        R"({"latitude":48.2,"longitude":8.4,"heading":null})")
                                  << expected(48.2, 8.4, null, null);

    QJsonObject withTimestamp = expected(48.2, 8.4, 3.5, 90);
    withTimestamp.insert("timestamp", 946684800000.0);
    QTest::newRow("timestamp 2000-01-01") << QByteArray(
        R"({"latitude":48.2,"longitude":8.4,"speed":3.5,"heading":90,"timestamp":946684800000})")
                                          << withTimestamp;

    QJsonObject withAccuracy = expected(48.2, 8.4, null, null);
    withAccuracy.insert("accuracy", 0);
    QTest::newRow("accuracy 0") << QByteArray(R"({"latitude":48.2,"longitude":8.4,"accuracy":0})")
                                << withAccuracy;
    QJsonObject withBoth = expected(48.2, 8.4, null, null);
    withBoth.insert("accuracy", 4.5);
    withBoth.insert("altitude", -12.5);
    QTest::newRow("accuracy and altitude")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"accuracy":4.5,"altitude":-12.5})")
        << withBoth;
    QTest::newRow("accuracy and altitude null")
        << QByteArray(R"({"latitude":48.2,"longitude":8.4,"accuracy":null,"altitude":null})")
        << expected(48.2, 8.4, null, null);
    QTest::newRow("extra keys of the mobile app dropped") << QByteArray(
        R"({"latitude":48.2,"longitude":8.4,"floor":2,"speed_accuracy":0.5,"is_mocked":false})")
                                                          << expected(48.2, 8.4, null, null);
}

void tst_Positions::acceptedPoint()
{
    QFETCH(QByteArray, payload);
    QFETCH(QJsonObject, expected);

    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(sendPoint(payload, QStringLiteral("2")), okReply("2"));
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QJsonObject broadcast = nextBroadcast(m_follower.get());
    const qint64 receivedAt = qint64(broadcast.take(QStringLiteral("received_at")).toDouble());
    QVERIFY(receivedAt >= before);
    QVERIFY(receivedAt <= after);
    if (!expected.contains(QStringLiteral("timestamp"))) {
        QCOMPARE(qint64(broadcast.take(QStringLiteral("timestamp")).toDouble()), receivedAt);
    }
    QCOMPARE(broadcast, expected);
}

void tst_Positions::timestampFiveMinutesAhead()
{
    // The server reads its clock after this line, so the point is at most 5 minutes ahead.
    const qint64 timestamp = QDateTime::currentMSecsSinceEpoch() + 5 * 60 * 1000;
    QCOMPARE(sendPoint(QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":)")
                           + QByteArray::number(timestamp) + "}",
                       QStringLiteral("2")),
             okReply("2"));
    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("timestamp")),
             QJsonValue(double(timestamp)));
}

void tst_Positions::timestampJustOverFiveMinutesAhead()
{
    // 1.5 s over the limit, so that the time the frame takes to arrive cannot bring it back in.
    const qint64 timestamp = QDateTime::currentMSecsSinceEpoch() + 5 * 60 * 1000 + 1500;
    const QJsonArray reply
        = sendPoint(QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":)")
                        + QByteArray::number(timestamp) + "}",
                    QStringLiteral("2"))
              .toArray();
    QCOMPARE(reply.at(4)["status"], QJsonValue("error"));
    const QJsonObject response = reply.at(4)["response"].toObject();
    QCOMPARE(response.value("reason"), QJsonValue("timestamp_in_future"));
    // The lead in seconds depends on when the server read its clock.
    const QRegularExpression pattern(
        QStringLiteral("^timestamp %1 is ([0-9.]+) s ahead of the server clock \\(at most 300 s "
                       "allowed\\): check the device clock$")
            .arg(timestamp));
    const QRegularExpressionMatch match = pattern.match(response.value("message").toString());
    QVERIFY2(match.hasMatch(), qPrintable(response.value("message").toString()));
    const double lead = match.captured(1).toDouble();
    QVERIFY2(lead > 300 && lead <= 301.5, qPrintable(match.captured(1)));
    QCOMPARE(m_server->metrics().positionsRejected.value(Omw::Rejection::TimestampInFuture),
             quint64(1));
}

void tst_Positions::outOfOrder()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    auto point = [](double latitude, qint64 timestamp) -> QByteArray {
        return QByteArray(R"({"latitude":)") + QByteArray::number(latitude)
            + R"(,"longitude":8.4,"timestamp":)" + QByteArray::number(timestamp) + "}";
    };
    QCOMPARE(sendPoint(point(48.2, now - 1000), QStringLiteral("2")), okReply("2"));
    QCOMPARE(sendPoint(point(48.3, now - 1001), QStringLiteral("3")),
             errorReply("3", "out_of_order",
                        QStringLiteral("timestamp %1 is older than the ride's current position at "
                                       "%2: send points in time order")
                            .arg(now - 1001)
                            .arg(now - 1000)));
    QCOMPARE(sendPoint(point(48.4, now - 999), QStringLiteral("4")), okReply("4"));
    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("latitude")), QJsonValue(48.2));
    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("latitude")), QJsonValue(48.4));
    QCOMPARE(m_follower->unread(), 0);
    QCOMPARE(m_server->metrics().positionsRejected.value(Omw::Rejection::OutOfOrder), quint64(1));
}

void tst_Positions::equalTimestampAccepted()
{
    // Only an older timestamp is out of order: a second fix of the same millisecond is relayed.
    const qint64 timestamp = QDateTime::currentMSecsSinceEpoch() - 1000;
    const QByteArray suffix
        = R"(,"longitude":8.4,"timestamp":)" + QByteArray::number(timestamp) + "}";
    QCOMPARE(sendPoint(R"({"latitude":48.2)" + suffix, QStringLiteral("2")), okReply("2"));
    QCOMPARE(sendPoint(R"({"latitude":48.3)" + suffix, QStringLiteral("3")), okReply("3"));
    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("latitude")), QJsonValue(48.2));
    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("latitude")), QJsonValue(48.3));
}

void tst_Positions::exactRepeatAcknowledgedOnce()
{
    const QByteArray point
        = R"({"latitude":48.2,"longitude":8.4,"speed":3,"heading":45,"timestamp":)"
        + QByteArray::number(QDateTime::currentMSecsSinceEpoch() - 1000) + "}";
    QCOMPARE(sendPoint(point, QStringLiteral("2")), okReply("2"));
    QCOMPARE(sendPoint(point, QStringLiteral("3")), okReply("3"));
    QCOMPARE(sendPoint(point, QStringLiteral("4")), okReply("4"));
    QCOMPARE(sendPoint(R"({"latitude":48.3,"longitude":8.4})", QStringLiteral("5")), okReply("5"));

    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("latitude")), QJsonValue(48.2));
    QCOMPARE(nextBroadcast(m_follower.get()).value(QStringLiteral("latitude")), QJsonValue(48.3));
    QCOMPARE(m_follower->unread(), 0);
    QCOMPARE(m_server->metrics().positionsAccepted, quint64(2));
    QCOMPARE(m_server->metrics().positionsRepeated, quint64(2));
}

void tst_Positions::noFixAllowedByOption()
{
    ServerConfig config;
    config.allowNoFix = true;
    startServer(config);
    QCOMPARE(
        sendPoint(R"({"latitude":0,"longitude":0,"speed":0,"heading":0})", QStringLiteral("2")),
        okReply("2"));
    const QJsonObject broadcast = nextBroadcast(m_follower.get());
    QCOMPARE(broadcast.value(QStringLiteral("latitude")), QJsonValue(0));
    QCOMPARE(broadcast.value(QStringLiteral("longitude")), QJsonValue(0));
}

void tst_Positions::deviceTimestampKept()
{
    const qint64 timestamp = QDateTime::currentMSecsSinceEpoch() - 60'000;
    QCOMPARE(sendPoint(QByteArray(R"({"latitude":48.2,"longitude":8.4,"timestamp":)")
                           + QByteArray::number(timestamp) + "}",
                       QStringLiteral("2")),
             okReply("2"));
    const QJsonObject broadcast = nextBroadcast(m_follower.get());
    QCOMPARE(broadcast.value(QStringLiteral("timestamp")), QJsonValue(double(timestamp)));
    QVERIFY(broadcast.value(QStringLiteral("received_at")).toDouble()
            >= double(timestamp + 60'000));
}

QTEST_GUILESS_MAIN(tst_Positions)
#include "tst_positions.moc"
