#include "faultserver.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>
#include <QWebSocket>

#include <memory>
#include <vector>

// 10,000 connect, join and disconnect cycles against omw-server: once every connection and ride
// is gone, the server's resident memory, open file descriptors and live QObjects are back at
// their baseline.
class tst_ConnectionCycles : public QObject
{
    Q_OBJECT

private slots:
    void cyclesReturnToBaseline();
};

namespace {

// One client that runs cycles back to back: connect, join a ride of its own, then leave and
// close cleanly on even cycles or drop the TCP connection without a close frame on odd ones.
class CycleWorker : public QObject
{
    Q_OBJECT

public:
    CycleWorker(quint16 port, int id, int *remaining, QObject *parent)
        : QObject(parent), m_port(port), m_id(id), m_remaining(remaining)
    {
        connect(&m_socket, &QWebSocket::connected, this, &CycleWorker::join);
        connect(&m_socket, &QWebSocket::textMessageReceived, this, &CycleWorker::replied);
        // The next cycle starts from the event loop, not from inside the socket's own signal.
        connect(&m_socket, &QWebSocket::disconnected, this,
                [this] { QTimer::singleShot(0, this, &CycleWorker::next); });
    }

    void next()
    {
        if (*m_remaining <= 0) {
            m_idle = true;
            return;
        }
        --*m_remaining;
        ++m_cycle;
        m_socket.open(
            QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/websocket?vsn=2.0.0").arg(m_port)));
    }

    bool isIdle() const { return m_idle; }
    int failures() const { return m_failures; }

private:
    QString topic() const { return QStringLiteral("tracking:cycle-%1-%2").arg(m_id).arg(m_cycle); }

    void join() { sendFrame(QStringLiteral("phx_join")); }

    void replied(const QString &text)
    {
        const QJsonArray frame = QJsonDocument::fromJson(text.toUtf8()).array();
        if (frame.at(3).toString() != QLatin1String("phx_reply")
            || frame.at(1).toString() != QLatin1String("1")) {
            return;
        }
        if (frame.at(4).toObject().value(QStringLiteral("status")).toString()
            != QLatin1String("ok")) {
            ++m_failures;
        }
        if (m_cycle % 2 == 0) {
            sendFrame(QStringLiteral("phx_leave"));
            m_socket.close();
        } else {
            m_socket.abort();
        }
    }

    void sendFrame(const QString &event)
    {
        const QString ref
            = event == QLatin1String("phx_join") ? QStringLiteral("1") : QStringLiteral("2");
        m_socket.sendTextMessage(QString::fromUtf8(
            QJsonDocument(QJsonArray {QStringLiteral("1"), ref, topic(), event, QJsonObject()})
                .toJson(QJsonDocument::Compact)));
    }

    QWebSocket m_socket;
    quint16 m_port;
    int m_id;
    int *m_remaining;
    int m_cycle = 0;
    int m_failures = 0;
    bool m_idle = false;
};

struct Usage
{
    qint64 residentBytes = 0;
    int openFiles = 0;
    double qobjects = 0;
};

} // namespace

void tst_ConnectionCycles::cyclesReturnToBaseline()
{
    // Short grace and reservation periods, so dropped rides end and ended rides are forgotten
    // within a second of the last cycle.
    // Under AddressSanitizer, freed memory waits in a quarantine of up to 256 MB before reuse,
    // which would read as growth; the server is started without one.
    QByteArray asanOptions = qgetenv("ASAN_OPTIONS");
    qputenv("ASAN_OPTIONS",
            asanOptions + (asanOptions.isEmpty() ? "" : ":") + "quarantine_size_mb=0");
    FaultServer server;
    QVERIFY2(server.start(0,
                          {QStringLiteral("--rider-grace"), QStringLiteral("0.2"),
                           QStringLiteral("--reservation-timeout"), QStringLiteral("0.2")}),
             qPrintable(server.errorString()));

    constexpr int workerCount = 10;
    const auto runCycles = [&](int cycles) {
        int remaining = cycles;
        std::vector<std::unique_ptr<CycleWorker>> workers;
        for (int i = 0; i < workerCount; ++i) {
            workers.push_back(std::make_unique<CycleWorker>(server.port(), i, &remaining, this));
        }
        for (auto &worker : workers) {
            worker->next();
        }
        const bool finished = QTest::qWaitFor(
            [&] {
                return std::all_of(workers.cbegin(), workers.cend(),
                                   [](const auto &worker) { return worker->isIdle(); });
            },
            600'000);
        int failures = 0;
        for (const auto &worker : workers) {
            failures += worker->failures();
        }
        return finished ? failures : -1;
    };
    const auto settledUsage = [&server] {
        // Wait until every connection and ride is gone before measuring.
        const bool settled = QTest::qWaitFor(
            [&server] {
                const QHash<QString, double> metrics = server.metrics();
                return metrics.value(QStringLiteral("omw_connections"), -1) == 0
                    && metrics.value(QStringLiteral("omw_rides{state=\"live\"}"), -1) == 0
                    && metrics.value(QStringLiteral("omw_rides{state=\"offline\"}"), -1) == 0
                    && metrics.value(QStringLiteral("omw_ride_names_reserved"), -1) == 0;
            },
            10'000);
        Usage usage;
        if (settled) {
            usage.residentBytes = server.residentBytes();
            usage.openFiles = server.openFileCount();
            usage.qobjects = server.metrics().value(QStringLiteral("omw_qobjects"), -1);
        }
        return usage;
    };

    // A warm-up fills the allocator's pools and Qt's lazily created objects first.
    QCOMPARE(runCycles(500), 0);
    const Usage baseline = settledUsage();
    QVERIFY(baseline.residentBytes > 0);

    QCOMPARE(runCycles(10'000), 0);
    const Usage after = settledUsage();
    QVERIFY(after.residentBytes > 0);
    qInfo("baseline: %lld kB resident, %d open files, %g QObjects; after 10,000 cycles: %lld kB, "
          "%d, %g",
          baseline.residentBytes / 1024, baseline.openFiles, baseline.qobjects,
          after.residentBytes / 1024, after.openFiles, after.qobjects);
    QCOMPARE(server.metrics().value(QStringLiteral("omw_connections_accepted_total")), 10'500.0);
    QCOMPARE(after.openFiles, baseline.openFiles);
    QCOMPARE(after.qobjects, baseline.qobjects);
    QVERIFY2(after.residentBytes <= baseline.residentBytes * 11 / 10,
             qPrintable(QStringLiteral("%1 kB after, %2 kB baseline")
                            .arg(after.residentBytes / 1024)
                            .arg(baseline.residentBytes / 1024)));
    QCOMPARE(server.stop(), 0);
}

QTEST_GUILESS_MAIN(tst_ConnectionCycles)
#include "tst_connectioncycles.moc"
