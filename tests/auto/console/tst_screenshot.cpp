#include "mapmath.h"
#include "serverprocess.h"

#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

using namespace Omw;

// End to end: omw-server, omw-rider replaying a recorded track, and omw-console --screenshot
// following the ride. The picture must show the map and the ride's marker where the console's
// model puts it.
class tst_Screenshot : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void followedRideIsDrawn();

private:
    QString startRider(const QString &serverUrl, const QString &track);

    QTemporaryDir m_dir;
    QProcess m_rider;
};

void tst_Screenshot::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    if (!ServerProcess::exists()) {
        QSKIP("omw-server is not built");
    }
    if (!QFileInfo(QStringLiteral(OMW_BINARY_DIR "/rider/omw-rider")).isExecutable()) {
        QSKIP("omw-rider is not built");
    }
    if (!QFileInfo::exists(QStringLiteral(OMW_TRACKS_DIR "/qtpositioning_nmealog.txt"))) {
        QSKIP("the recorded tracks folder (OMW_TRACKS_DIR) is absent");
    }
}

void tst_Screenshot::cleanup()
{
    if (m_rider.state() != QProcess::NotRunning) {
        m_rider.terminate();
        if (!m_rider.waitForFinished(5000)) {
            m_rider.kill();
            m_rider.waitForFinished(5000);
        }
    }
}

QString tst_Screenshot::startRider(const QString &serverUrl, const QString &track)
{
    m_rider.setProgram(QStringLiteral(OMW_BINARY_DIR "/rider/omw-rider"));
    m_rider.setArguments({QStringLiteral("--server"), serverUrl, QStringLiteral("--speedup"),
                          QStringLiteral("10"), QStringLiteral("--loop"), track});
    m_rider.start();
    if (!m_rider.waitForStarted(10000)) {
        return QString();
    }
    // The rider prints "Ride: <mnemonic>" first.
    static const QRegularExpression ride(QStringLiteral("Ride: (\\S+)"));
    QByteArray output;
    QSignalSpy ready(&m_rider, &QProcess::readyReadStandardOutput);
    for (int i = 0; i < 100 && m_rider.state() == QProcess::Running; ++i) {
        output += m_rider.readAllStandardOutput();
        const QRegularExpressionMatch match = ride.match(QString::fromUtf8(output));
        if (match.hasMatch()) {
            return match.captured(1);
        }
        ready.wait(100);
    }
    qWarning().noquote() << "omw-rider printed no mnemonic:" << output
                         << m_rider.readAllStandardError();
    return QString();
}

void tst_Screenshot::followedRideIsDrawn()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const QString slug
        = startRider(server.url(), QStringLiteral(OMW_TRACKS_DIR "/qtpositioning_nmealog.txt"));
    QVERIFY(!slug.isEmpty());

    const QString picture = m_dir.filePath(QStringLiteral("console.png"));
    QProcess console;
    // The console keeps its settings and tile cache in the test's folder.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
    environment.insert(QStringLiteral("XDG_CACHE_HOME"), m_dir.filePath(QStringLiteral("cache")));
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    console.setProcessEnvironment(environment);
    console.start(QStringLiteral(OMW_BINARY_DIR "/console/omw-console"),
                  {QStringLiteral("--server"), server.url(), QStringLiteral("--follow"), slug,
                   QStringLiteral("--tiles"), QStringLiteral("none"),
                   QStringLiteral("--screenshot"), picture, QStringLiteral("--screenshot-timeout"),
                   QStringLiteral("60")});
    QVERIFY(console.waitForStarted(10000));
    QVERIFY2(console.waitForFinished(90000), "omw-console did not exit");
    const QByteArray errors = console.readAllStandardError();
    QCOMPARE(console.exitStatus(), QProcess::NormalExit);
    QVERIFY2(console.exitCode() == 0, errors.constData());

    // The state the console printed: the map's view and each ride's model values.
    const QJsonDocument document
        = QJsonDocument::fromJson(console.readAllStandardOutput().trimmed());
    QVERIFY(document.isObject());
    const QJsonObject state = document.object();
    const QJsonObject map = state.value(QStringLiteral("map")).toObject();
    const QJsonArray rides = state.value(QStringLiteral("rides")).toArray();
    QCOMPARE(rides.size(), 1);
    const QJsonObject ride = rides.at(0).toObject();
    QCOMPARE(ride.value(QStringLiteral("slug")).toString(), slug);
    QCOMPARE(ride.value(QStringLiteral("state")).toString(), QStringLiteral("live"));
    // Brisbane, where the track was recorded.
    const double latitude = ride.value(QStringLiteral("latitude")).toDouble();
    const double longitude = ride.value(QStringLiteral("longitude")).toDouble();
    QVERIFY2(latitude < -27.5 && latitude > -27.6, qPrintable(QString::number(latitude)));
    QVERIFY2(longitude > 153.0 && longitude < 153.2, qPrintable(QString::number(longitude)));

    // Where the marker must be, from the model's position and the map's view.
    const QGeoCoordinate center(map.value(QStringLiteral("latitude")).toDouble(),
                                map.value(QStringLiteral("longitude")).toDouble());
    const QSizeF mapSize(map.value(QStringLiteral("width")).toDouble(),
                         map.value(QStringLiteral("height")).toDouble());
    const QPointF expected = QPointF(map.value(QStringLiteral("x")).toDouble(),
                                     map.value(QStringLiteral("y")).toDouble())
        + MapMath::toView(QGeoCoordinate(latitude, longitude), center,
                          map.value(QStringLiteral("zoom")).toDouble(), mapSize);
    const QPointF marker(ride.value(QStringLiteral("markerX")).toDouble(),
                         ride.value(QStringLiteral("markerY")).toDouble());
    QVERIFY2(std::fabs(marker.x() - expected.x()) < 1.0, qPrintable(QString::number(marker.x())));
    QVERIFY2(std::fabs(marker.y() - expected.y()) < 1.0, qPrintable(QString::number(marker.y())));

    const QImage image(picture);
    QVERIFY(!image.isNull());
    const QJsonObject window = state.value(QStringLiteral("window")).toObject();
    const double ratio = window.value(QStringLiteral("devicePixelRatio")).toDouble();
    QCOMPARE(image.width(), qRound(window.value(QStringLiteral("width")).toDouble() * ratio));
    QCOMPARE(image.height(), qRound(window.value(QStringLiteral("height")).toDouble() * ratio));

    // Not blank: the map, the panel and the marker give many colours.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4) {
        for (int x = 0; x < image.width(); x += 4) {
            colours.insert(image.pixel(x, y));
        }
    }
    QVERIFY2(colours.size() > 50, qPrintable(QString::number(colours.size())));

    // The live colour of the marker is drawn within its 30 px box.
    const QColor live(0x1a, 0x73, 0xe8);
    int markerPixels = 0;
    for (int dy = -12; dy <= 12; ++dy) {
        for (int dx = -12; dx <= 12; ++dx) {
            const QColor pixel = image.pixelColor(qRound(expected.x() * ratio) + dx,
                                                  qRound(expected.y() * ratio) + dy);
            if (std::abs(pixel.red() - live.red()) < 30
                && std::abs(pixel.green() - live.green()) < 30
                && std::abs(pixel.blue() - live.blue()) < 30) {
                ++markerPixels;
            }
        }
    }
    QVERIFY2(markerPixels >= 40, qPrintable(QString::number(markerPixels)));
    // And not somewhere else: on the map's left side, far from the ride at its centre (the
    // trail of the first seconds of the replay is much shorter), the map is plain.
    const QPointF elsewhere(map.value(QStringLiteral("x")).toDouble() + mapSize.width() * 0.12,
                            map.value(QStringLiteral("y")).toDouble() + mapSize.height() * 0.5);
    QVERIFY(QLineF(elsewhere, expected).length() > 250);
    int strayPixels = 0;
    for (int dy = -12; dy <= 12; ++dy) {
        for (int dx = -12; dx <= 12; ++dx) {
            const QColor pixel = image.pixelColor(qRound(elsewhere.x() * ratio) + dx,
                                                  qRound(elsewhere.y() * ratio) + dy);
            if (std::abs(pixel.red() - live.red()) < 30
                && std::abs(pixel.green() - live.green()) < 30
                && std::abs(pixel.blue() - live.blue()) < 30) {
                ++strayPixels;
            }
        }
    }
    QCOMPARE(strayPixels, 0);
}

QTEST_GUILESS_MAIN(tst_Screenshot)
#include "tst_screenshot.moc"
