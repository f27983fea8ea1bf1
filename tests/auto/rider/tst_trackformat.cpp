#include "track.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using Omw::Rider::TrackFormat;

Q_DECLARE_METATYPE(Omw::Rider::TrackFormat)

class TestTrackFormat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void realFiles_data();
    void realFiles();
    void heads_data();
    void heads();
    void nameDoesNotDecide();
    void readFileErrors();
    void summaryLines();
};

void TestTrackFormat::realFiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<TrackFormat>("format");
    QTest::newRow("qtpositioning_nmealog") << "qtpositioning_nmealog.txt" << TrackFormat::Nmea;
    QTest::newRow("gpsd_bt451") << "gpsd_bt451.log" << TrackFormat::Nmea;
    QTest::newRow("gpsd_nl2008u") << "gpsd_nl2008u.log" << TrackFormat::Nmea;
    QTest::newRow("gpsd_firefly-II") << "gpsd_firefly-II.log" << TrackFormat::Nmea;
    QTest::newRow("gpxpy_around-visnjan")
        << "gpxpy_around-visnjan-with-car.gpx" << TrackFormat::Gpx;
    QTest::newRow("gpxpy_korita-zbevnica") << "gpxpy_korita-zbevnica.gpx" << TrackFormat::Gpx;
    QTest::newRow("gpsbabel_garmin-edge-800")
        << "gpsbabel_garmin-edge-800-output.gpx" << TrackFormat::Gpx;
    QTest::newRow("gpsbabel_sbn-v13") << "gpsbabel_sbn-v13.gpx" << TrackFormat::Gpx;
    QTest::newRow("togeojson_blue_hills") << "togeojson_blue_hills.gpx" << TrackFormat::Gpx;
    QTest::newRow("owntracks_demo-iphone") << "owntracks_demo-iphone.rec" << TrackFormat::OwnTracks;
    QTest::newRow("sources description") << "SOURCES.md" << TrackFormat::Unknown;
}

void TestTrackFormat::realFiles()
{
    QFETCH(QString, file);
    QFETCH(TrackFormat, format);
    QFile input(QStringLiteral(OMW_TRACKS_DIR "/") + file);
    if (!input.exists())
        QSKIP(qPrintable(
            QStringLiteral("the real tracks folder is absent: %1").arg(input.fileName())));
    QVERIFY(input.open(QIODevice::ReadOnly));
    QCOMPARE(Omw::Rider::detectFormat(input.read(64 * 1024)), format);
}

void TestTrackFormat::heads_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<TrackFormat>("format");
    QTest::newRow("gpx with BOM") << QByteArray("\xEF\xBB\xBF<?xml version=\"1.0\"?><gpx>")
                                  << TrackFormat::Gpx;
    QTest::newRow("gpx after blank lines")
        << QByteArray("\n\n  <gpx version=\"1.1\">") << TrackFormat::Gpx;
    QTest::newRow("kml is not gpx")
        << QByteArray("<?xml version=\"1.0\"?><kml>") << TrackFormat::Unknown;
    QTest::newRow("nmea after comments")
        << QByteArray("# header\n#\n$GNRMC,,V,,,,,,,,,,N*4D\n") << TrackFormat::Nmea;
    QTest::newRow("nmea with CRLF") << QByteArray("$GPGGA,1,2\r\n") << TrackFormat::Nmea;
    QTest::newRow("recorder line")
        << QByteArray("2015-08-24T05:55:07Z\t*   \t{\"_type\":\"location\"}\n")
        << TrackFormat::OwnTracks;
    QTest::newRow("bare owntracks json")
        << QByteArray("{\"_type\":\"location\",\"lat\":1}\n") << TrackFormat::OwnTracks;
    QTest::newRow("other json") << QByteArray("{\"type\":\"Feature\"}\n") << TrackFormat::Unknown;
    QTest::newRow("csv") << QByteArray("lat,lon\n47,8\n") << TrackFormat::Unknown;
    QTest::newRow("empty") << QByteArray() << TrackFormat::Unknown;
}

void TestTrackFormat::heads()
{
    QFETCH(QByteArray, head);
    QFETCH(TrackFormat, format);
    QCOMPARE(Omw::Rider::detectFormat(head), format);
}

void TestTrackFormat::nameDoesNotDecide()
{
    // An NMEA log saved as .gpx is still read as NMEA.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile file(dir.filePath(QStringLiteral("ride.gpx")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("$GPRMC,120000.00,A,4700.0000,N,00800.0000,E,10.0,90.0,150526,,,A*5B\n");
    file.close();
    QString errorString;
    const auto track = Omw::Rider::readTrackFile(file.fileName(), &errorString);
    QVERIFY2(track, qPrintable(errorString));
    QCOMPARE(track->format, TrackFormat::Nmea);
    QCOMPARE(track->fixes.size(), 1);
}

void TestTrackFormat::readFileErrors()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString errorString;

    QVERIFY(!Omw::Rider::readTrackFile(dir.filePath(QStringLiteral("missing.gpx")), &errorString));
    QVERIFY2(errorString.startsWith(QLatin1String("cannot open ")), qPrintable(errorString));

    QFile text(dir.filePath(QStringLiteral("notes.txt")));
    QVERIFY(text.open(QIODevice::WriteOnly));
    text.write("just some notes\n");
    text.close();
    QVERIFY(!Omw::Rider::readTrackFile(text.fileName(), &errorString));
    QVERIFY2(errorString.contains(QLatin1String("cannot tell the format")),
             qPrintable(errorString));

    QFile noFixes(dir.filePath(QStringLiteral("nofix.log")));
    QVERIFY(noFixes.open(QIODevice::WriteOnly));
    noFixes.write("$GPRMC,,V,,,,,,,,,,N*53\n");
    noFixes.close();
    QVERIFY(!Omw::Rider::readTrackFile(noFixes.fileName(), &errorString));
    QVERIFY2(errorString.contains(QLatin1String("contains no fix")), qPrintable(errorString));
}

void TestTrackFormat::summaryLines()
{
    Omw::Rider::TrackQuirks quirks;
    QVERIFY(quirks.summary().isEmpty());
    quirks.badChecksums = 23;
    quirks.unknownSpeed = 6;
    quirks.segments = 1; // a single segment is not worth a line
    const QStringList lines = quirks.summary();
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines.at(0), QStringLiteral("skipped 23 NMEA sentences with a wrong checksum"));
    QVERIFY(lines.at(1).startsWith(QLatin1String("6 fixes have no speed")));
    quirks.segments = 8;
    QCOMPARE(quirks.summary().last(), QStringLiteral("the track has 8 segments"));
}

QTEST_GUILESS_MAIN(TestTrackFormat)
#include "tst_trackformat.moc"
