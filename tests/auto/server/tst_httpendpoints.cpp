#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QRegularExpression>
#include <QTcpSocket>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;

// GET /healthz and GET /metrics on the WebSocket port: the JSON fields, the Prometheus text
// format, and exact counter values after a known sequence of actions.
class tst_HttpEndpoints : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void healthz();
    void healthzHead();
    void metricsRejectsPost();
    void metricsFormat();
    void metricsCountKnownSequence();
    void metricsAfterDropAndEnd();
    void metricsCountRateLimitedPoints();

private:
    QByteArray httpGet(const QByteArray &path, const QByteArray &method = "GET");
    // Scrapes /metrics and returns each sample as "name{labels}" to value.
    QHash<QString, double> scrape();
    std::unique_ptr<TestClient> connectClient();

    std::unique_ptr<Server> m_server;
};

void tst_HttpEndpoints::initTestCase()
{
    QCoreApplication::setApplicationVersion(QStringLiteral("9.8.7"));
}

void tst_HttpEndpoints::init()
{
    ServerConfig config;
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

void tst_HttpEndpoints::cleanup()
{
    m_server.reset();
}

std::unique_ptr<TestClient> tst_HttpEndpoints::connectClient()
{
    auto client = std::make_unique<TestClient>();
    if (!client->open(m_server->serverPort())) {
        qWarning() << "cannot connect to the server on port" << m_server->serverPort();
    }
    return client;
}

QByteArray tst_HttpEndpoints::httpGet(const QByteArray &path, const QByteArray &method)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->serverPort());
    if (!socket.waitForConnected(5000)) {
        return QByteArray();
    }
    socket.write(method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
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

static QByteArray bodyOf(const QByteArray &response)
{
    return response.mid(response.indexOf("\r\n\r\n") + 4);
}

QHash<QString, double> tst_HttpEndpoints::scrape()
{
    QHash<QString, double> samples;
    const QByteArray body = bodyOf(httpGet("/metrics"));
    for (const QByteArray &line : body.split('\n')) {
        if (line.isEmpty() || line.startsWith('#')) {
            continue;
        }
        const qsizetype space = line.lastIndexOf(' ');
        samples.insert(QString::fromUtf8(line.left(space)), line.mid(space + 1).toDouble());
    }
    return samples;
}

void tst_HttpEndpoints::healthz()
{
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    auto follower = connectClient();
    const QByteArray response = httpGet("/healthz");
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
    QVERIFY(response.contains("\r\nContent-Type: application/json\r\n"));
    const QJsonObject health = QJsonDocument::fromJson(bodyOf(response)).object();
    QCOMPARE(health,
             QJsonObject({{"status", "ok"},
                          {"version", "9.8.7"},
                          {"uptime_seconds", 0},
                          {"connections", 2},
                          {"rides", 1}}));
}

void tst_HttpEndpoints::healthzHead()
{
    const QByteArray response = httpGet("/healthz", "HEAD");
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
    QVERIFY(response.endsWith("\r\n\r\n"));
}

void tst_HttpEndpoints::metricsRejectsPost()
{
    const QByteArray response = httpGet("/metrics", "POST");
    QVERIFY2(response.startsWith("HTTP/1.1 405 "), response.constData());
    QCOMPARE(QJsonDocument::fromJson(bodyOf(response)).object(),
             QJsonObject({{"status", 405}, {"error", "/metrics accepts only GET"}}));
}

void tst_HttpEndpoints::metricsFormat()
{
    const QByteArray response = httpGet("/metrics");
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
    QVERIFY(response.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));

    // Text format 0.0.4: HELP and TYPE before a family's samples, then `name{labels} value`.
    static const QRegularExpression help(QStringLiteral("^# HELP ([a-z_]+) \\S.*$"));
    static const QRegularExpression type(
        QStringLiteral("^# TYPE ([a-z_]+) (counter|gauge|histogram|summary|untyped)$"));
    static const QRegularExpression sample(QStringLiteral(
        "^([a-z_]+)(\\{[a-z_]+=\"[^\"\\\\]*\"(,[a-z_]+=\"[^\"\\\\]*\")*\\})? -?[0-9.e+]+$"));
    QHash<QString, QString> types;
    const QByteArray body = bodyOf(response);
    QVERIFY(body.endsWith('\n'));
    for (const QByteArray &bytes : body.chopped(1).split('\n')) {
        const QString line = QString::fromUtf8(bytes);
        if (const auto match = type.match(line); match.hasMatch()) {
            QVERIFY2(!types.contains(match.captured(1)), qPrintable(line));
            types.insert(match.captured(1), match.captured(2));
        } else if (line.startsWith(QLatin1String("# HELP "))) {
            QVERIFY2(help.match(line).hasMatch(), qPrintable(line));
        } else {
            const auto sampleMatch = sample.match(line);
            QVERIFY2(sampleMatch.hasMatch(), qPrintable(line));
            QVERIFY2(types.contains(sampleMatch.captured(1)), qPrintable(line));
        }
    }
    // Counters end in _total, as Prometheus expects.
    for (auto it = types.cbegin(); it != types.cend(); ++it) {
        if (it.value() == QLatin1String("counter")) {
            QVERIFY2(it.key().endsWith(QLatin1String("_total")), qPrintable(it.key()));
        }
    }
    for (const QString family :
         {"omw_connections", "omw_channels", "omw_rides", "omw_frames_received_total",
          "omw_frames_sent_total", "omw_positions_rejected_total", "omw_heartbeats_total",
          "omw_closes_total"}) {
        QVERIFY2(types.contains(family), qPrintable(family));
    }
}

void tst_HttpEndpoints::metricsCountKnownSequence()
{
    // Frames in and out are counted per step in the comments.
    auto follower = connectClient();
    follower->join(QStringLiteral("following:brave-otter"), QStringLiteral("1")); // 1 in, 1 out
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")); // 1 in, 1 out
    for (const char *ref : {"2", "3"}) { // 2 in, 2 out
        rider->send(QJsonValue::Null, ref, QStringLiteral("phoenix"), QStringLiteral("heartbeat"));
        QCOMPARE(rider->next()[4]["status"], QJsonValue("ok"));
    }
    const qint64 timestamp = QDateTime::currentMSecsSinceEpoch() - 1000;
    const QJsonObject point {
        {"latitude", 48.2}, {"longitude", 8.4}, {"timestamp", double(timestamp)}};
    const QList<QJsonObject> points {
        point, // accepted: 1 in, 2 out (the reply and the broadcast)
        point, // a repeat: 1 in, 1 out
        {{"latitude", 0}, {"longitude", 0}}, // no_fix: 1 in, 1 out
        {{"latitude", 91}, {"longitude", 8.4}}, // invalid_coordinates: 1 in, 1 out
        {{"latitude", 48.3},
         {"longitude", 8.4},
         {"timestamp", double(timestamp - 1)}}, // out_of_order
    };
    int ref = 4;
    for (const QJsonObject &payload : points) {
        rider->send("1", QString::number(ref++), QStringLiteral("tracking:brave-otter"),
                    QStringLiteral("NEW_COORDS"), payload);
        rider->next();
    }
    QCOMPARE(follower->next()[3], QJsonValue("NEW_COORDS"));

    auto onboarding = connectClient();
    onboarding->join(QStringLiteral("onboarding"), QStringLiteral("1")); // 1 in, 1 out
    onboarding->socket().close(); // close code 1000
    auto broken = connectClient();
    broken->sendText("not json"); // 1 in, close code 1007
    QVERIFY(broken->waitForDisconnect());
    QTRY_COMPARE(m_server->connectionCount(), 2);

    const QHash<QString, double> metrics = scrape();
    const QHash<QString, double> expected {
        {"omw_connections", 2},
        {"omw_connections_accepted_total", 4},
        {"omw_connections_rejected_total", 0},
        {"omw_channels{kind=\"onboarding\"}", 0},
        {"omw_channels{kind=\"tracking\"}", 1},
        {"omw_channels{kind=\"following\"}", 1},
        {"omw_channels{kind=\"dispatch\"}", 0},
        {"omw_rides{state=\"live\"}", 1},
        {"omw_rides{state=\"offline\"}", 0},
        {"omw_rides_started_total", 1},
        {"omw_frames_received_total", 11},
        {"omw_frames_sent_total", 11},
        {"omw_heartbeats_total", 2},
        {"omw_positions_accepted_total", 1},
        {"omw_positions_repeated_total", 1},
        {"omw_positions_rejected_total{reason=\"invalid_payload\"}", 0},
        {"omw_positions_rejected_total{reason=\"invalid_coordinates\"}", 1},
        {"omw_positions_rejected_total{reason=\"invalid_speed\"}", 0},
        {"omw_positions_rejected_total{reason=\"invalid_heading\"}", 0},
        {"omw_positions_rejected_total{reason=\"invalid_timestamp\"}", 0},
        {"omw_positions_rejected_total{reason=\"no_fix\"}", 1},
        {"omw_positions_rejected_total{reason=\"timestamp_in_future\"}", 0},
        {"omw_positions_rejected_total{reason=\"out_of_order\"}", 1},
        {"omw_positions_rejected_total{reason=\"rate_limited\"}", 0},
        {"omw_closes_total{code=\"1000\"}", 1},
        {"omw_closes_total{code=\"1007\"}", 1},
        {"omw_messages_rate_limited_total", 0},
        {"omw_slow_followers_disconnected_total", 0},
        {"omw_follow_joins_rate_limited_total", 0},
    };
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        QVERIFY2(metrics.contains(it.key()), qPrintable(it.key()));
        QVERIFY2(metrics.value(it.key()) == it.value(),
                 qPrintable(QStringLiteral("%1 is %2, expected %3")
                                .arg(it.key())
                                .arg(metrics.value(it.key()))
                                .arg(it.value())));
    }
    // Only codes that occurred are listed.
    const QStringList closes = metrics.keys().filter(QStringLiteral("omw_closes_total"));
    QCOMPARE(closes.size(), 2);
}

void tst_HttpEndpoints::metricsAfterDropAndEnd()
{
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:ride-a"), QStringLiteral("1"));
    auto second = connectClient();
    second->join(QStringLiteral("tracking:ride-b"), QStringLiteral("1"));
    rider->socket().abort();
    QTRY_COMPARE(m_server->connectionCount(), 1);

    QHash<QString, double> metrics = scrape();
    QCOMPARE(metrics.value("omw_rides{state=\"live\"}"), 1.0);
    QCOMPARE(metrics.value("omw_rides{state=\"offline\"}"), 1.0);
    QCOMPARE(metrics.value("omw_connections"), 1.0);
    QCOMPARE(metrics.value("omw_channels{kind=\"tracking\"}"), 1.0);
    // A connection dropped without a close handshake is 1006, as RFC 6455 names it.
    QCOMPARE(metrics.value("omw_closes_total{code=\"1006\"}"), 1.0);

    second->send("1", "2", QStringLiteral("tracking:ride-b"), QStringLiteral("phx_leave"));
    QTRY_COMPARE(m_server->sessions()->sessionCount(), 1);
    metrics = scrape();
    QCOMPARE(metrics.value("omw_rides{state=\"live\"}"), 0.0);
    QCOMPARE(metrics.value("omw_rides_ended_total{reason=\"rider_left\"}"), 1.0);
    QCOMPARE(metrics.value("omw_rides_ended_total{reason=\"grace_expired\"}"), 0.0);
    QCOMPARE(metrics.value("omw_channels{kind=\"tracking\"}"), 0.0);
}

void tst_HttpEndpoints::metricsCountRateLimitedPoints()
{
    ServerConfig config;
    config.port = 0;
    config.messageRate = 1;
    config.messageBurst = 2;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    rider->send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.2,"longitude":8.4})"));
    QCOMPARE(rider->next()[4]["status"], QJsonValue("ok"));
    // The burst of two is spent: this point is dropped.
    rider->send("1", "3", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.3,"longitude":8.4})"));
    QCOMPARE(rider->next()[4]["response"]["reason"], QJsonValue("rate_limited"));

    const QHash<QString, double> metrics = scrape();
    QCOMPARE(metrics.value("omw_positions_rejected_total{reason=\"rate_limited\"}"), 1.0);
    QCOMPARE(metrics.value("omw_messages_rate_limited_total"), 1.0);
    QCOMPARE(metrics.value("omw_positions_accepted_total"), 1.0);
}

QTEST_GUILESS_MAIN(tst_HttpEndpoints)
#include "tst_httpendpoints.moc"
