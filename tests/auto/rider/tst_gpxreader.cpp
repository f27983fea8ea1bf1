#include "gpxreader.h"

#include <QBuffer>
#include <QDateTime>
#include <QFile>
#include <QTest>

#include <cmath>

using Omw::Position;
using Omw::Rider::GpxReader;
using Omw::Rider::Track;

namespace {

struct Expected
{
    const char *time;
    double latitude;
    double longitude;
    double altitude;
    double speed;
    double heading;
};

qint64 utc(const char *iso)
{
    return QDateTime::fromString(QString::fromLatin1(iso), Qt::ISODateWithMs).toMSecsSinceEpoch();
}

bool sameOrBothUnknown(double actual, double expected)
{
    if (std::isnan(expected))
        return std::isnan(actual);
    return qFuzzyCompare(actual, expected);
}

std::optional<Track> readText(const QByteArray &text, QString *errorString)
{
    QBuffer buffer;
    buffer.setData(text);
    buffer.open(QIODevice::ReadOnly);
    return GpxReader::read(&buffer, errorString);
}

QByteArray gpx10(const QByteArray &body)
{
    return "<?xml version=\"1.0\"?>\n<gpx version=\"1.0\" "
           "xmlns=\"http://www.topografix.com/GPX/1/0\">"
        + body + "</gpx>\n";
}

} // namespace

Q_DECLARE_METATYPE(Expected)

class TestGpxReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void realTrack_data();
    void realTrack();
    void edgeSpeedIsMetresPerSecond();
    void blueHillsRidesOutOfOrder();
    void points_data();
    void points();
    void gpx11ExtensionSpeed();
    void timeZoneOffset();
    void malformedXml();
    void wrongRoot();
};

void TestGpxReader::realTrack_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("fixes");
    QTest::addColumn<int>("segments");
    QTest::addColumn<int>("emptySegments");
    QTest::addColumn<int>("missingTime");
    QTest::addColumn<int>("noFix");
    QTest::addColumn<Expected>("first");
    QTest::addColumn<Expected>("last");
    const double unknown = Position::unknown;

    // One line without a newline, Garmin GPX 1.1 namespaces, no speed or course.
    QTest::newRow("gpxpy_around-visnjan-with-car")
        << "gpxpy_around-visnjan-with-car.gpx" << 104 << 1 << 0 << 0 << 0
        << Expected {"2020-12-18T06:15:50Z", 45.2735188510, 13.7142099626, 211.15, unknown, unknown}
        << Expected {
               "2020-12-18T06:24:24Z", 45.2733349521, 13.7139970623, 210.67, unknown, unknown};
    // A saved track of 358 points without times, an empty segment, two timed tracks.
    QTest::newRow("gpxpy_korita-zbevnica")
        << "gpxpy_korita-zbevnica.gpx" << 513 << 2 << 1 << 358 << 0
        << Expected {"2010-10-03T09:36:30Z",
                     45.452595614,
                     14.018194014,
                     753.330322,
                     unknown,
                     unknown}
        << Expected {
               "2010-10-03T13:19:31Z", 45.452453708, 14.018215053, 770.634033, unknown, unknown};
    // Eight timer segments, <speed> in m/s on every point.
    QTest::newRow("gpsbabel_garmin-edge-800-output")
        << "gpsbabel_garmin-edge-800-output.gpx" << 1286 << 8 << 0 << 0 << 0
        << Expected {"2012-04-12T12:53:58Z", 48.189526470, 11.858895309, 512.8, 6.823, unknown}
        << Expected {"2012-04-12T13:54:19Z", 48.186895391, 11.858545868, 529.0, 0.0, unknown};
    // 89 points with <fix>none</fix>, and millisecond fractions on some times.
    QTest::newRow("gpsbabel_sbn-v13")
        << "gpsbabel_sbn-v13.gpx" << 3364 << 1 << 0 << 0 << 89
        << Expected {"2010-02-01T12:34:04.537Z", 52.005229900, 4.368828000, -23.13, 7.91, 39.299999}
        << Expected {"2010-02-01T13:30:36Z", 51.989885300, 4.375880700, 33.0, 2.67, 318.209991};
    // Three rides on three days in the file order June, October, May, in 14 segments, with CRLF.
    QTest::newRow("togeojson_blue_hills")
        << "togeojson_blue_hills.gpx" << 1243 << 14 << 0 << 0 << 0
        << Expected {"2001-06-24T15:09:09Z", 42.210009, -71.096220, 61.5696, unknown, unknown}
        << Expected {"2001-05-26T20:44:11Z", 42.208958, -71.102400, 43.5864, unknown, unknown};
}

void TestGpxReader::realTrack()
{
    QFETCH(QString, file);
    QFETCH(int, fixes);
    QFETCH(int, segments);
    QFETCH(int, emptySegments);
    QFETCH(int, missingTime);
    QFETCH(int, noFix);
    QFETCH(Expected, first);
    QFETCH(Expected, last);

    QFile input(QStringLiteral(OMW_TRACKS_DIR "/") + file);
    if (!input.exists())
        QSKIP(qPrintable(
            QStringLiteral("the real tracks folder is absent: %1").arg(input.fileName())));
    QVERIFY(input.open(QIODevice::ReadOnly));
    QString errorString;
    const std::optional<Track> track = GpxReader::read(&input, &errorString);
    QVERIFY2(track, qPrintable(errorString));

    QCOMPARE(track->fixes.size(), fixes);
    QCOMPARE(track->quirks.segments, segments);
    QCOMPARE(track->quirks.emptySegments, emptySegments);
    QCOMPARE(track->quirks.missingTime, missingTime);
    QCOMPARE(track->quirks.noFix, noFix);
    QCOMPARE(track->quirks.malformed, 0);
    QCOMPARE(track->quirks.nullIsland, 0);
    for (const auto &[actual, expected] :
         {std::pair {track->fixes.first().position, first}, {track->fixes.last().position, last}}) {
        QCOMPARE(QDateTime::fromMSecsSinceEpoch(actual.timestamp, Qt::UTC),
                 QDateTime::fromMSecsSinceEpoch(utc(expected.time), Qt::UTC));
        QCOMPARE(actual.latitude, expected.latitude);
        QCOMPARE(actual.longitude, expected.longitude);
        QCOMPARE(actual.altitude, expected.altitude);
        QVERIFY2(sameOrBothUnknown(actual.speed, expected.speed),
                 qPrintable(QString::number(actual.speed)));
        QVERIFY2(sameOrBothUnknown(actual.heading, expected.heading),
                 qPrintable(QString::number(actual.heading)));
        QVERIFY(!actual.hasAccuracy());
    }
}

void TestGpxReader::edgeSpeedIsMetresPerSecond()
{
    QFile input(QStringLiteral(OMW_TRACKS_DIR "/gpsbabel_garmin-edge-800-output.gpx"));
    if (!input.exists())
        QSKIP("the real tracks folder is absent");
    QVERIFY(input.open(QIODevice::ReadOnly));
    QString errorString;
    const std::optional<Track> track = GpxReader::read(&input, &errorString);
    QVERIFY(track);
    // GPX <speed> is already m/s: a bicycle tops out near 12 m/s (about 44 km/h), not 44.
    double maximum = 0;
    for (const auto &fix : track->fixes) {
        QVERIFY(fix.position.hasSpeed());
        maximum = std::max(maximum, fix.position.speed);
    }
    QVERIFY2(maximum > 8 && maximum < 16, qPrintable(QString::number(maximum)));
    // The segments are numbered in document order.
    QCOMPARE(track->fixes.first().segment, 0);
    QCOMPARE(track->fixes.last().segment, 7);
    QCOMPARE(track->fixes.at(46).segment, 0);
    QCOMPARE(track->fixes.at(47).segment, 1);
}

void TestGpxReader::blueHillsRidesOutOfOrder()
{
    QFile input(QStringLiteral(OMW_TRACKS_DIR "/togeojson_blue_hills.gpx"));
    if (!input.exists())
        QSKIP("the real tracks folder is absent");
    QVERIFY(input.open(QIODevice::ReadOnly));
    QString errorString;
    const std::optional<Track> track = GpxReader::read(&input, &errorString);
    QVERIFY(track);
    int backwards = 0;
    for (qsizetype i = 1; i < track->fixes.size(); ++i) {
        if (track->fixes.at(i).position.timestamp < track->fixes.at(i - 1).position.timestamp)
            ++backwards;
    }
    QCOMPARE(backwards, 1); // October's ride is followed by May's
}

void TestGpxReader::points_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("fixes");
    QTest::addColumn<QString>("quirk");
    QTest::addColumn<int>("count");
    const QByteArray time = "<time>2026-05-16T09:30:00Z</time>";
    QTest::newRow("valid") << "<trk><trkseg><trkpt lat=\"47\" lon=\"8\">" + time
            + "</trkpt></trkseg></trk>"
                           << 1 << QString() << 0;
    QTest::newRow("no time") << QByteArray(
        "<trk><trkseg><trkpt lat=\"47\" lon=\"8\"/></trkseg></trk>")
                             << 0 << QStringLiteral("missingTime") << 1;
    QTest::newRow("empty time") << QByteArray("<trk><trkseg><trkpt lat=\"47\" lon=\"8\"><time>"
                                              "</time></trkpt></trkseg></trk>")
                                << 0 << QStringLiteral("missingTime") << 1;
    QTest::newRow("fix none") << "<trk><trkseg><trkpt lat=\"47\" lon=\"8\">" + time
            + "<fix>none</fix></trkpt></trkseg></trk>"
                              << 0 << QStringLiteral("noFix") << 1;
    QTest::newRow("fix 2d kept") << "<trk><trkseg><trkpt lat=\"47\" lon=\"8\">" + time
            + "<fix>2d</fix></trkpt></trkseg></trk>"
                                 << 1 << QString() << 0;
    QTest::newRow("latitude 90 kept")
        << "<trk><trkseg><trkpt lat=\"90\" lon=\"8\">" + time + "</trkpt></trkseg></trk>" << 1
        << QString() << 0;
    QTest::newRow("latitude 90.1 rejected")
        << "<trk><trkseg><trkpt lat=\"90.1\" lon=\"8\">" + time + "</trkpt></trkseg></trk>" << 0
        << QStringLiteral("malformed") << 1;
    QTest::newRow("missing lon") << "<trk><trkseg><trkpt lat=\"47\">" + time
            + "</trkpt></trkseg></trk>"
                                 << 0 << QStringLiteral("malformed") << 1;
    QTest::newRow("null island") << "<trk><trkseg><trkpt lat=\"0\" lon=\"0\">" + time
            + "</trkpt></trkseg></trk>"
                                 << 0 << QStringLiteral("nullIsland") << 1;
    QTest::newRow("empty segment")
        << QByteArray("<trk><trkseg></trkseg></trk>") << 0 << QStringLiteral("emptySegments") << 1;
    QTest::newRow("routes and waypoints ignored") << "<wpt lat=\"47\" lon=\"8\">" + time
            + "</wpt><rte><rtept lat=\"47\" lon=\"8\">" + time
            + "</rtept></rte>" << 0 << QString() << 0;
}

void TestGpxReader::points()
{
    QFETCH(QByteArray, body);
    QFETCH(int, fixes);
    QFETCH(QString, quirk);
    QFETCH(int, count);
    QString errorString;
    const std::optional<Track> track = readText(gpx10(body), &errorString);
    QVERIFY2(track, qPrintable(errorString));
    QCOMPARE(track->fixes.size(), fixes);
    const QHash<QString, int> counts {
        {QStringLiteral("missingTime"), track->quirks.missingTime},
        {QStringLiteral("noFix"), track->quirks.noFix},
        {QStringLiteral("malformed"), track->quirks.malformed},
        {QStringLiteral("nullIsland"), track->quirks.nullIsland},
        {QStringLiteral("emptySegments"), track->quirks.emptySegments},
    };
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        QCOMPARE(it.value(), it.key() == quirk ? count : 0);
}

void TestGpxReader::gpx11ExtensionSpeed()
{
    const QByteArray text = R"(<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
  <trk><trkseg>
    <trkpt lat="46.9" lon="7.4"><ele>540</ele><time>2026-05-16T09:30:00Z</time>
      <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>13.5</gpxtpx:speed>
      <gpxtpx:course>360</gpxtpx:course></gpxtpx:TrackPointExtension></extensions>
    </trkpt>
    <trkpt lat="46.9001" lon="7.4"><time>2026-05-16T09:30:01Z</time>
      <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>-1</gpxtpx:speed>
      </gpxtpx:TrackPointExtension></extensions>
    </trkpt>
  </trkseg></trk>
</gpx>)";
    QString errorString;
    const std::optional<Track> track = readText(text, &errorString);
    QVERIFY2(track, qPrintable(errorString));
    QCOMPARE(track->fixes.size(), 2);
    QCOMPARE(track->fixes.at(0).position.speed, 13.5);
    QCOMPARE(track->fixes.at(0).position.heading, 0.0);
    QCOMPARE(track->fixes.at(0).position.altitude, 540.0);
    QVERIFY(!track->fixes.at(1).position.hasSpeed());
    QVERIFY(!track->fixes.at(1).position.hasAltitude());
}

void TestGpxReader::timeZoneOffset()
{
    QString errorString;
    const std::optional<Track> track = readText(
        gpx10("<trk><trkseg><trkpt lat=\"47\" lon=\"8\"><time>2026-05-16T11:30:00.250+02:00"
              "</time></trkpt></trkseg></trk>"),
        &errorString);
    QVERIFY2(track, qPrintable(errorString));
    QCOMPARE(track->fixes.size(), 1);
    QCOMPARE(track->fixes.first().position.timestamp, utc("2026-05-16T09:30:00.250Z"));
}

void TestGpxReader::malformedXml()
{
    QString errorString;
    const std::optional<Track> track
        = readText("<?xml version=\"1.0\"?>\n<gpx>\n<trk><trkseg>\n</trk></gpx>", &errorString);
    QVERIFY(!track);
    QVERIFY2(errorString.startsWith(QLatin1String("line 4, column")), qPrintable(errorString));
}

void TestGpxReader::wrongRoot()
{
    QString errorString;
    const std::optional<Track> track = readText("<kml><Document/></kml>", &errorString);
    QVERIFY(!track);
    QCOMPARE(errorString, QStringLiteral("the root element is <kml>, not <gpx>"));
}

QTEST_GUILESS_MAIN(TestGpxReader)
#include "tst_gpxreader.moc"
