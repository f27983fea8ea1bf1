#include "nmeareader.h"

#include <QBuffer>
#include <QDateTime>
#include <QFile>
#include <QGeoPositionInfo>
#include <QNmeaPositionInfoSource>
#include <QTest>

#include <cmath>

using Omw::Position;
using Omw::Rider::NmeaReader;
using Omw::Rider::Track;

namespace {

Track readText(const QByteArray &text)
{
    QBuffer buffer;
    buffer.setData(text);
    buffer.open(QIODevice::ReadOnly);
    return NmeaReader::read(&buffer);
}

// Appends the checksum, so that synthetic sentences below stay readable.
QByteArray sentence(const QByteArray &body)
{
    uint sum = 0;
    for (char c : body)
        sum ^= uchar(c);
    return '$' + body + '*' + QByteArray::number(sum, 16).rightJustified(2, '0').toUpper() + "\r\n";
}

qint64 utc(const char *iso)
{
    return QDateTime::fromString(QString::fromLatin1(iso), Qt::ISODateWithMs).toMSecsSinceEpoch();
}

double knots(double value)
{
    return value * 1852.0 / 3600.0;
}

bool sameOrBothUnknown(double actual, double expected)
{
    if (std::isnan(expected))
        return std::isnan(actual);
    return qFuzzyCompare(actual, expected);
}

// Exposes Qt's own sentence parser, which QNmeaPositionInfoSource uses for every sentence.
class QtNmeaParser : public QNmeaPositionInfoSource
{
public:
    QtNmeaParser() : QNmeaPositionInfoSource(QNmeaPositionInfoSource::RealTimeMode) { }
    bool parse(const QByteArray &line, QGeoPositionInfo *info)
    {
        bool hasFix = false;
        return parsePosInfoFromNmeaData(line.constData(), int(line.size()), info, &hasFix)
            && hasFix;
    }
};

} // namespace

class TestNmeaReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void realLog_data();
    void realLog();
    void timeJumpsBackInExcerpts();
    void agreesWithQtParser();
    void checksum_data();
    void checksum();
    void sentences_data();
    void sentences();
    void mergesAltitudeAndAccuracy();
    void knotsToMetresPerSecond_data();
    void knotsToMetresPerSecond();
};

void TestNmeaReader::realLog_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("fixes");
    QTest::addColumn<int>("badChecksums");
    QTest::addColumn<int>("noFix");
    QTest::addColumn<int>("unknownSpeed");
    QTest::addColumn<int>("unknownHeading");
    QTest::addColumn<Position>("first");
    QTest::addColumn<Position>("last");

    const auto fix = [](const char *time, double latitude, double longitude, double speedKnots,
                        double heading, double altitude, double accuracy) {
        Position position;
        position.timestamp = utc(time);
        position.latitude = latitude;
        position.longitude = longitude;
        position.speed = knots(speedKnots);
        position.heading = heading;
        position.altitude = altitude;
        position.accuracy = accuracy;
        return position;
    };
    const double unknown = Position::unknown;

    // Brisbane drive. The last 6 RMC have empty speed and course, and GST gives accuracy.
    QTest::newRow("qtpositioning_nmealog")
        << "qtpositioning_nmealog.txt" << 156 << 0 << 0 << 6 << 6
        << fix("2008-03-03T22:24:37Z", -(27 + 34.33926 / 60), 153 + 5.44310 / 60, 33.9, 157.8, 50.6,
               std::hypot(6.0, 6.8))
        << fix("2008-03-03T22:27:12Z", -(27 + 34.78658 / 60), 153 + 6.02015 / 60, unknown, unknown,
               45.3, std::hypot(197.4, 183.9));
    // Four all-empty no-fix RMC, course empty while stationary, and no GGA after the last RMC.
    QTest::newRow("gpsd_bt451") << "gpsd_bt451.log" << 13 << 0 << 4 << 0 << 7
                                << fix("2009-12-09T15:25:05Z", 55 + 47.82113 / 60,
                                       23 + 34.14130 / 60, 0.253, unknown, 37.0, unknown)
                                << fix("2009-12-09T14:33:08.500Z", 55 + 46.81633 / 60,
                                       23 + 34.70079 / 60, 32.273, 221.54, unknown, unknown);
    // GN talker, NMEA 4.1 navigational status field, course at zero speed.
    QTest::newRow("gpsd_nl2008u") << "gpsd_nl2008u.log" << 9 << 0 << 0 << 0 << 0
                                  << fix("2015-10-10T09:12:32Z", 48 + 13.0535 / 60,
                                         8 + 24.8697 / 60, 0.0, 0.0, 765.8, unknown)
                                  << fix("2015-10-10T09:34:53Z", 48 + 13.2480 / 60,
                                         8 + 25.3129 / 60, 0.0, 281.08, 723.7, unknown);
    // Every GGA has a wrong checksum, so positions survive and altitudes do not.
    QTest::newRow("gpsd_firefly-II") << "gpsd_firefly-II.log" << 23 << 23 << 0 << 0 << 0
                                     << fix("2010-07-08T00:59:47Z", 37 + 15.6616 / 60,
                                            -(121 + 57.6709 / 60), 0.0, 0.0, unknown, unknown)
                                     << fix("2010-07-08T01:00:09Z", 37 + 15.6609 / 60,
                                            -(121 + 57.6699 / 60), 0.0, 0.0, unknown, unknown);
}

void TestNmeaReader::realLog()
{
    QFETCH(QString, file);
    QFETCH(int, fixes);
    QFETCH(int, badChecksums);
    QFETCH(int, noFix);
    QFETCH(int, unknownSpeed);
    QFETCH(int, unknownHeading);
    QFETCH(Position, first);
    QFETCH(Position, last);

    QFile log(QStringLiteral(OMW_TRACKS_DIR "/") + file);
    if (!log.exists())
        QSKIP(
            qPrintable(QStringLiteral("the real tracks folder is absent: %1").arg(log.fileName())));
    QVERIFY(log.open(QIODevice::ReadOnly));
    const Track track = NmeaReader::read(&log);

    QCOMPARE(track.fixes.size(), fixes);
    QCOMPARE(track.quirks.badChecksums, badChecksums);
    QCOMPARE(track.quirks.noFix, noFix);
    QCOMPARE(track.quirks.unknownSpeed, unknownSpeed);
    QCOMPARE(track.quirks.unknownHeading, unknownHeading);
    QCOMPARE(track.quirks.nullIsland, 0);
    QCOMPARE(track.quirks.malformed, 0);
    for (const auto &[actual, expected] :
         {std::pair {track.fixes.first().position, first}, {track.fixes.last().position, last}}) {
        QCOMPARE(QDateTime::fromMSecsSinceEpoch(actual.timestamp, Qt::UTC),
                 QDateTime::fromMSecsSinceEpoch(expected.timestamp, Qt::UTC));
        QCOMPARE(actual.latitude, expected.latitude);
        QCOMPARE(actual.longitude, expected.longitude);
        QVERIFY2(sameOrBothUnknown(actual.speed, expected.speed),
                 qPrintable(QString::number(actual.speed)));
        QVERIFY2(sameOrBothUnknown(actual.heading, expected.heading),
                 qPrintable(QString::number(actual.heading)));
        QVERIFY2(sameOrBothUnknown(actual.altitude, expected.altitude),
                 qPrintable(QString::number(actual.altitude)));
        QVERIFY2(sameOrBothUnknown(actual.accuracy, expected.accuracy),
                 qPrintable(QString::number(actual.accuracy)));
    }
}

void TestNmeaReader::timeJumpsBackInExcerpts()
{
    QFile log(QStringLiteral(OMW_TRACKS_DIR "/gpsd_bt451.log"));
    if (!log.exists())
        QSKIP("the real tracks folder is absent");
    QVERIFY(log.open(QIODevice::ReadOnly));
    const Track track = NmeaReader::read(&log);
    QCOMPARE(track.fixes.size(), 13);
    // The stationary excerpt ends at 15:25:08.5 and the driving one starts at 14:33:06.5.
    QCOMPARE(track.fixes.at(7).position.timestamp, utc("2009-12-09T15:25:08.500Z"));
    QCOMPARE(track.fixes.at(8).position.timestamp, utc("2009-12-09T14:33:06.500Z"));
    int backwards = 0;
    for (qsizetype i = 1; i < track.fixes.size(); ++i) {
        if (track.fixes.at(i).position.timestamp < track.fixes.at(i - 1).position.timestamp)
            ++backwards;
    }
    QCOMPARE(backwards, 1);
}

void TestNmeaReader::agreesWithQtParser()
{
    QFile log(QStringLiteral(OMW_TRACKS_DIR "/qtpositioning_nmealog.txt"));
    if (!log.exists())
        QSKIP("the real tracks folder is absent");
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = log.readAll().split('\n');
    QVERIFY(log.seek(0));
    const Track track = NmeaReader::read(&log);

    QtNmeaParser qt;
    int compared = 0;
    for (const QByteArray &line : lines) {
        if (!line.startsWith("$GPRMC"))
            continue;
        QGeoPositionInfo info;
        QVERIFY(qt.parse(line.trimmed() + "\r\n", &info));
        const Position &ours = track.fixes.at(compared).position;
        QCOMPARE(ours.timestamp, info.timestamp().toMSecsSinceEpoch());
        QCOMPARE(ours.latitude, info.coordinate().latitude());
        QCOMPARE(ours.longitude, info.coordinate().longitude());
        if (info.hasAttribute(QGeoPositionInfo::GroundSpeed))
            QCOMPARE(ours.speed, info.attribute(QGeoPositionInfo::GroundSpeed));
        else
            QVERIFY(!ours.hasSpeed());
        if (info.hasAttribute(QGeoPositionInfo::Direction))
            QCOMPARE(ours.heading, info.attribute(QGeoPositionInfo::Direction));
        else
            QVERIFY(!ours.hasHeading());
        ++compared;
    }
    QCOMPARE(compared, 156);
}

void TestNmeaReader::checksum_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("valid");
    QTest::newRow("correct") << QByteArray("$GPRMC,,V,,,,,,,,,,N*53") << true;
    QTest::newRow("lowercase hex")
        << QByteArray("$GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99*30") << true;
    QTest::newRow("off by one") << QByteArray("$GPRMC,,V,,,,,,,,,,N*52") << false;
    QTest::newRow("no checksum") << QByteArray("$GPRMC,,V,,,,,,,,,,N") << true;
    QTest::newRow("truncated checksum") << QByteArray("$GPRMC,,V,,,,,,,,,,N*5") << false;
    QTest::newRow("not hex") << QByteArray("$GPRMC,,V,,,,,,,,,,N*ZZ") << false;
    QTest::newRow("firefly GGA") << QByteArray(
        "$GPGGA,005947.00,3715.6616,N,12157.6709,W,,11,0.8,86.0,M,-30.1,M,,*54")
                                 << false;
}

void TestNmeaReader::checksum()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, valid);
    QCOMPARE(NmeaReader::hasValidChecksum(line), valid);
}

void TestNmeaReader::sentences_data()
{
    QTest::addColumn<QByteArray>("log");
    QTest::addColumn<int>("fixes");
    QTest::addColumn<QString>("quirk");
    QTest::addColumn<int>("count");

    const QByteArray rmc = "GPRMC,120000.00,A,4700.0000,N,00800.0000,E,10.0,90.0,150526,,,A";
    QTest::newRow("valid") << sentence(rmc) << 1 << QString() << 0;
    QTest::newRow("wrong checksum")
        << QByteArray("$" + rmc + "*00\r\n") << 0 << QStringLiteral("badChecksums") << 1;
    QTest::newRow("status V") << sentence("GPRMC,120000.00,V,4700.0000,N,00800.0000,E,,,150526,,,N")
                              << 0 << QStringLiteral("noFix") << 1;
    QTest::newRow("mode N with status A")
        << sentence("GPRMC,120000.00,A,4700.0000,N,00800.0000,E,,,150526,,,N") << 0
        << QStringLiteral("noFix") << 1;
    QTest::newRow("all empty") << sentence("GPRMC,,V,,,,,,,,,,N") << 0 << QStringLiteral("noFix")
                               << 1;
    QTest::newRow("empty speed") << sentence(
        "GPRMC,120000.00,A,4700.0000,N,00800.0000,E,,90.0,150526,,,A")
                                 << 1 << QStringLiteral("unknownSpeed") << 1;
    QTest::newRow("empty course") << sentence(
        "GPRMC,120000.00,A,4700.0000,N,00800.0000,E,1.0,,150526,,,A")
                                  << 1 << QStringLiteral("unknownHeading") << 1;
    QTest::newRow("no date") << sentence("GPRMC,120000.00,A,4700.0000,N,00800.0000,E,1.0,5,,,,A")
                             << 0 << QStringLiteral("missingTime") << 1;
    QTest::newRow("null island") << sentence(
        "GPRMC,120000.00,A,0000.0000,N,00000.0000,E,0.0,0.0,150526,,,A")
                                 << 0 << QStringLiteral("nullIsland") << 1;
    QTest::newRow("minutes out of range")
        << sentence("GPRMC,120000.00,A,4760.0000,N,00800.0000,E,1.0,5,150526,,,A") << 0
        << QStringLiteral("malformed") << 1;
    QTest::newRow("not a sentence")
        << QByteArray("hello\n") << 0 << QStringLiteral("malformed") << 1;
    QTest::newRow("comment and blank lines")
        << QByteArray(QByteArray("# a comment\n\n") + sentence(rmc)) << 1 << QString() << 0;
    QTest::newRow("GN talker, NMEA 4.1 status")
        << sentence("GNRMC,120000.00,A,4700.0000,N,00800.0000,E,1.0,5,150526,,,A,V") << 1
        << QString() << 0;
    QByteArray lineFeedsOnly = sentence(rmc);
    lineFeedsOnly += sentence("GPRMC,120001.00,A,4700.0010,N,00800.0000,E,10.0,90.0,150526,,,A");
    lineFeedsOnly.replace("\r\n", "\n");
    QTest::newRow("two fixes, LF only") << lineFeedsOnly << 2 << QString() << 0;
}

void TestNmeaReader::sentences()
{
    QFETCH(QByteArray, log);
    QFETCH(int, fixes);
    QFETCH(QString, quirk);
    QFETCH(int, count);
    const Track track = readText(log);
    QCOMPARE(track.fixes.size(), fixes);
    const QHash<QString, int> counts {
        {QStringLiteral("badChecksums"), track.quirks.badChecksums},
        {QStringLiteral("noFix"), track.quirks.noFix},
        {QStringLiteral("missingTime"), track.quirks.missingTime},
        {QStringLiteral("unknownSpeed"), track.quirks.unknownSpeed},
        {QStringLiteral("unknownHeading"), track.quirks.unknownHeading},
        {QStringLiteral("nullIsland"), track.quirks.nullIsland},
        {QStringLiteral("malformed"), track.quirks.malformed},
    };
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        QCOMPARE(it.value(), it.key() == quirk ? count : 0);
}

void TestNmeaReader::mergesAltitudeAndAccuracy()
{
    // GGA and GST before and after the RMC of their epoch, and a GGA of another epoch.
    const Track track
        = readText(sentence("GPGGA,120000.00,4700.0000,N,00800.0000,E,1,08,1.0,500.5,M,48.0,M,,")
                   + sentence("GPRMC,120000.00,A,4700.0000,S,00800.0000,W,10.0,360.0,150526,,,A")
                   + sentence("GPGST,120000.00,2.0,1.0,1.0,0.0,3.0,4.0,5.0")
                   + sentence("GPGGA,120001.00,4700.0000,N,00800.0000,E,1,08,1.0,600.0,M,48.0,M,,")
                   + sentence("GPRMC,120002.00,A,4700.0000,N,00800.0000,E,10.0,90.0,150526,,,A"));
    QCOMPARE(track.fixes.size(), 2);
    const Position first = track.fixes.at(0).position;
    QCOMPARE(first.latitude, -47.0);
    QCOMPARE(first.longitude, -8.0);
    QCOMPARE(first.altitude, 500.5);
    QCOMPARE(first.accuracy, 5.0);
    QCOMPARE(first.heading, 0.0); // 360 is north
    const Position second = track.fixes.at(1).position;
    QVERIFY(!second.hasAltitude());
    QVERIFY(!second.hasAccuracy());
    QCOMPARE(second.timestamp - first.timestamp, 2000);
}

void TestNmeaReader::knotsToMetresPerSecond_data()
{
    QTest::addColumn<QByteArray>("speed");
    QTest::addColumn<double>("metresPerSecond");
    QTest::newRow("zero") << QByteArray("0.00") << 0.0;
    QTest::newRow("one knot") << QByteArray("1.0") << 1852.0 / 3600.0;
    QTest::newRow("38.7 knots") << QByteArray("38.7") << 38.7 * 1852.0 / 3600.0;
    QTest::newRow("negative is unknown") << QByteArray("-1.0") << Position::unknown;
}

void TestNmeaReader::knotsToMetresPerSecond()
{
    QFETCH(QByteArray, speed);
    QFETCH(double, metresPerSecond);
    const Track track = readText(
        sentence("GPRMC,120000.00,A,4700.0000,N,00800.0000,E," + speed + ",90.0,150526,,,A"));
    QCOMPARE(track.fixes.size(), 1);
    QVERIFY2(sameOrBothUnknown(track.fixes.first().position.speed, metresPerSecond),
             qPrintable(QString::number(track.fixes.first().position.speed)));
}

QTEST_GUILESS_MAIN(TestNmeaReader)
#include "tst_nmeareader.moc"
