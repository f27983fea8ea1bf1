#include "owntracksreader.h"

#include <QBuffer>
#include <QDateTime>
#include <QFile>
#include <QTest>

using Omw::Position;
using Omw::Rider::OwnTracksReader;
using Omw::Rider::Track;

namespace {

Track readText(const QByteArray &text)
{
    QBuffer buffer;
    buffer.setData(text);
    buffer.open(QIODevice::ReadOnly);
    return OwnTracksReader::read(&buffer);
}

QByteArray recorderLine(const QByteArray &json)
{
    return "2026-05-16T09:30:05Z\t*                 \t" + json + "\n";
}

} // namespace

class TestOwnTracksReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void demoRecording();
    void records_data();
    void records();
    void kilometresPerHour_data();
    void kilometresPerHour();
};

void TestOwnTracksReader::demoRecording()
{
    QFile input(QStringLiteral(OMW_TRACKS_DIR "/owntracks_demo-iphone.rec"));
    if (!input.exists())
        QSKIP(qPrintable(
            QStringLiteral("the real tracks folder is absent: %1").arg(input.fileName())));
    QVERIFY(input.open(QIODevice::ReadOnly));
    const Track track = OwnTracksReader::read(&input);

    QCOMPARE(track.fixes.size(), 23);
    QCOMPARE(track.quirks.otherRecords, 2); // the two lwt records
    QCOMPARE(track.quirks.unknownSpeed, 15); // vel -1
    QCOMPARE(track.quirks.unknownHeading, 16); // cog -1
    QCOMPARE(track.quirks.malformed, 0);
    QCOMPARE(track.quirks.missingTime, 0);

    // The fix time is the device's tst, not the recorder's receive time in the first column.
    const Position first = track.fixes.first().position;
    QCOMPARE(first.timestamp, qint64(1440395361) * 1000);
    QCOMPARE(first.latitude, 52.37888580984668);
    QCOMPARE(first.longitude, 10.02785726730668);
    QCOMPARE(first.accuracy, 3000.0);
    QCOMPARE(first.altitude, 51.0);
    QVERIFY(!first.hasSpeed());
    QVERIFY(!first.hasHeading());

    // The one precise fix among the first 16: at rest, speed 0 known, course unknown.
    const Position resting = track.fixes.at(10).position;
    QCOMPARE(resting.timestamp, qint64(1440401122) * 1000);
    QCOMPARE(resting.speed, 0.0);
    QVERIFY(!resting.hasHeading());
    QCOMPARE(resting.accuracy, 10.0);

    const Position last = track.fixes.last().position;
    QCOMPARE(last.timestamp, qint64(1440405601) * 1000);
    QCOMPARE(last.latitude, 51.06263391678321);
    QCOMPARE(last.longitude, 13.60279820860699);
    QCOMPARE(last.speed, 18 / 3.6);
    QCOMPARE(last.heading, 82.0);
    QCOMPARE(last.accuracy, 10.0);
    QCOMPARE(last.altitude, 262.0);

    for (qsizetype i = 1; i < track.fixes.size(); ++i)
        QVERIFY(track.fixes.at(i).position.timestamp > track.fixes.at(i - 1).position.timestamp);
}

void TestOwnTracksReader::records_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("fixes");
    QTest::addColumn<QString>("quirk");
    QTest::addColumn<int>("count");
    const QByteArray location
        = R"({"_type":"location","tst":1778923805,"lat":46.95,"lon":7.45,"vel":36,"cog":90})";
    QTest::newRow("recorder line") << recorderLine(location) << 1 << QString() << 0;
    QTest::newRow("bare JSON line") << location + "\n" << 1 << QString() << 0;
    QTest::newRow("tst as a numeric string")
        << recorderLine(R"({"_type":"location","tst":"1778923805","lat":46.95,"lon":7.45})") << 1
        << QStringLiteral("unknownSpeed") << 1;
    QTest::newRow("no tst") << recorderLine(R"({"_type":"location","lat":46.95,"lon":7.45})") << 0
                            << QStringLiteral("missingTime") << 1;
    QTest::newRow("lwt record") << recorderLine(R"({"tst":"1440363922","_type":"lwt"})") << 0
                                << QStringLiteral("otherRecords") << 1;
    QTest::newRow("transition record")
        << recorderLine(R"({"_type":"transition","tst":1778923805,"event":"enter"})") << 0
        << QStringLiteral("otherRecords") << 1;
    QTest::newRow("latitude missing")
        << recorderLine(R"({"_type":"location","tst":1778923805,"lon":7.45})") << 0
        << QStringLiteral("malformed") << 1;
    QTest::newRow("longitude 180.5")
        << recorderLine(R"({"_type":"location","tst":1778923805,"lat":1,"lon":180.5})") << 0
        << QStringLiteral("malformed") << 1;
    QTest::newRow("broken JSON") << recorderLine(R"({"_type":"location",)") << 0
                                 << QStringLiteral("malformed") << 1;
    QTest::newRow("no tabs and no JSON")
        << QByteArray("garbage\n") << 0 << QStringLiteral("malformed") << 1;
    QTest::newRow("null island") << recorderLine(
        R"({"_type":"location","tst":1778923805,"lat":0,"lon":0,"vel":0,"cog":0})")
                                 << 0 << QStringLiteral("nullIsland") << 1;
}

void TestOwnTracksReader::records()
{
    QFETCH(QByteArray, text);
    QFETCH(int, fixes);
    QFETCH(QString, quirk);
    QFETCH(int, count);
    const Track track = readText(text);
    QCOMPARE(track.fixes.size(), fixes);
    const QHash<QString, int> counts {
        {QStringLiteral("missingTime"), track.quirks.missingTime},
        {QStringLiteral("otherRecords"), track.quirks.otherRecords},
        {QStringLiteral("malformed"), track.quirks.malformed},
        {QStringLiteral("nullIsland"), track.quirks.nullIsland},
        {QStringLiteral("unknownSpeed"), track.quirks.unknownSpeed},
    };
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        QCOMPARE(it.value(), it.key() == quirk ? count : 0);
}

void TestOwnTracksReader::kilometresPerHour_data()
{
    QTest::addColumn<QByteArray>("vel");
    QTest::addColumn<double>("metresPerSecond");
    QTest::addColumn<bool>("known");
    QTest::newRow("36 km/h") << QByteArray("36") << 10.0 << true;
    QTest::newRow("0 km/h") << QByteArray("0") << 0.0 << true;
    QTest::newRow("-1 is unknown") << QByteArray("-1") << 0.0 << false;
    QTest::newRow("null is unknown") << QByteArray("null") << 0.0 << false;
}

void TestOwnTracksReader::kilometresPerHour()
{
    QFETCH(QByteArray, vel);
    QFETCH(double, metresPerSecond);
    QFETCH(bool, known);
    const Track track = readText(recorderLine(
        R"({"_type":"location","tst":1778923805,"lat":46.95,"lon":7.45,"cog":360,"vel":)" + vel
        + "}"));
    QCOMPARE(track.fixes.size(), 1);
    const Position position = track.fixes.first().position;
    QCOMPARE(position.hasSpeed(), known);
    if (known)
        QCOMPARE(position.speed, metresPerSecond);
    QCOMPARE(position.heading, 0.0); // cog 360 is north
}

QTEST_GUILESS_MAIN(TestOwnTracksReader)
#include "tst_owntracksreader.moc"
