#include "replay.h"

#include <QSignalSpy>
#include <QTest>

using Omw::Position;
using Omw::Rider::Fix;
using Omw::Rider::planReplay;
using Omw::Rider::Replayer;
using Omw::Rider::ReplayOptions;
using Omw::Rider::ReplayPlan;
using Omw::Rider::Track;

namespace {

// A track with fixes at the given recording times (milliseconds) and segments.
Track trackAt(const QList<qint64> &times, const QList<int> &segments = {})
{
    Track track;
    for (qsizetype i = 0; i < times.size(); ++i) {
        Position position;
        position.latitude = 46.9 + double(i) / 1000;
        position.longitude = 7.4;
        position.speed = double(i);
        position.timestamp = 1'000'000'000'000 + times.at(i);
        track.fixes.append({position, segments.isEmpty() ? 0 : segments.at(i)});
    }
    return track;
}

} // namespace

class TestReplay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void plan_data();
    void plan();
    void planSummary();
    void replayStampsWithReplayClock();
    void replayKeepsOriginalTimes();
    void loopContinuesClock();
    void stopEndsReplay();
};

void TestReplay::plan_data()
{
    QTest::addColumn<QList<qint64>>("times");
    QTest::addColumn<QList<int>>("segments");
    QTest::addColumn<QList<qint64>>("offsets");
    QTest::addColumn<int>("pausesShortened");
    QTest::addColumn<qint64>("pauseTimeSkipped");
    QTest::addColumn<int>("backwardJumps");
    QTest::addColumn<int>("segmentBreaks");

    QTest::newRow("1 Hz") << QList<qint64> {0, 1000, 2000} << QList<int> {}
                          << QList<qint64> {0, 1000, 2000} << 0 << qint64(0) << 0 << 0;
    QTest::newRow("gap of exactly the max pause kept")
        << QList<qint64> {0, 60'000} << QList<int> {} << QList<qint64> {0, 60'000} << 0 << qint64(0)
        << 0 << 0;
    QTest::newRow("gap 1 ms over the max pause shortened")
        << QList<qint64> {0, 60'001} << QList<int> {} << QList<qint64> {0, 60'000} << 1 << qint64(1)
        << 0 << 0;
    QTest::newRow("34-minute gap")
        << QList<qint64> {0, 1000, 2'041'000, 2'042'000} << QList<int> {}
        << QList<qint64> {0, 1000, 61'000, 62'000} << 1 << qint64(1'980'000) << 0 << 0;
    QTest::newRow("time jumps back")
        << QList<qint64> {10'000, 10'500, 0, 500} << QList<int> {}
        << QList<qint64> {0, 500, 1500, 2000} << 0 << qint64(0) << 1 << 0;
    QTest::newRow("repeated time") << QList<qint64> {0, 0, 1000} << QList<int> {}
                                   << QList<qint64> {0, 0, 1000} << 0 << qint64(0) << 0 << 0;
    QTest::newRow("segments") << QList<qint64> {0, 1000, 5000, 6000} << QList<int> {0, 0, 1, 1}
                              << QList<qint64> {0, 1000, 5000, 6000} << 0 << qint64(0) << 0 << 1;
}

void TestReplay::plan()
{
    QFETCH(QList<qint64>, times);
    QFETCH(QList<int>, segments);
    QFETCH(QList<qint64>, offsets);
    QFETCH(int, pausesShortened);
    QFETCH(qint64, pauseTimeSkipped);
    QFETCH(int, backwardJumps);
    QFETCH(int, segmentBreaks);
    const ReplayPlan plan = planReplay(trackAt(times, segments).fixes, ReplayOptions());
    QCOMPARE(plan.offsets, offsets);
    QCOMPARE(plan.pausesShortened, pausesShortened);
    QCOMPARE(plan.pauseTimeSkipped, pauseTimeSkipped);
    QCOMPARE(plan.backwardJumps, backwardJumps);
    QCOMPARE(plan.segmentBreaks, segmentBreaks);
    QCOMPARE(plan.duration(), offsets.last());
}

void TestReplay::planSummary()
{
    const ReplayPlan plan = planReplay(trackAt({0, 1000, 2'041'000, 0}).fixes, ReplayOptions());
    const QStringList lines = plan.summary();
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines.at(0), QStringLiteral("shortened 1 pauses in the recording (33 min skipped)"));
    QVERIFY(lines.at(1).startsWith(QLatin1String("the recorded time jumps backwards at 1 places")));
}

void TestReplay::replayStampsWithReplayClock()
{
    const Track track = trackAt({0, 1000, 2000, 120'000});
    ReplayOptions options;
    options.speedup = 100;
    Replayer replayer(track, options);
    replayer.setClock([] { return qint64(1'800'000'000'000); });
    QSignalSpy positions(&replayer, &Replayer::positionReady);
    QSignalSpy finished(&replayer, &Replayer::finished);
    replayer.start();
    QVERIFY(finished.wait(5000));
    QCOMPARE(positions.count(), 4);
    // Offsets 0, 1000, 2000 and 62000 (the 118 s pause shortened to 60 s), divided by 100.
    const QList<qint64> expected {0, 10, 20, 620};
    for (int i = 0; i < 4; ++i) {
        const auto position = positions.at(i).at(0).value<Position>();
        QCOMPARE(position.timestamp, 1'800'000'000'000 + expected.at(i));
        QCOMPARE(position.latitude, track.fixes.at(i).position.latitude);
        QCOMPARE(position.speed, track.fixes.at(i).position.speed);
        QCOMPARE(positions.at(i).at(1).toInt(), i);
        QCOMPARE(positions.at(i).at(2).toInt(), 0);
    }
    QCOMPARE(finished.count(), 1);
    QVERIFY(!replayer.isRunning());
}

void TestReplay::replayKeepsOriginalTimes()
{
    const Track track = trackAt({0, 1000, 500});
    ReplayOptions options;
    options.speedup = 1000;
    options.originalTimes = true;
    Replayer replayer(track, options);
    QSignalSpy positions(&replayer, &Replayer::positionReady);
    QSignalSpy finished(&replayer, &Replayer::finished);
    replayer.start();
    QVERIFY(finished.wait(5000));
    QCOMPARE(positions.count(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(positions.at(i).at(0).value<Position>().timestamp,
                 track.fixes.at(i).position.timestamp);
    }
}

void TestReplay::loopContinuesClock()
{
    const Track track = trackAt({0, 1000});
    ReplayOptions options;
    options.speedup = 100;
    options.loop = true;
    Replayer replayer(track, options);
    replayer.setClock([] { return qint64(0); });
    QSignalSpy positions(&replayer, &Replayer::positionReady);
    QSignalSpy finished(&replayer, &Replayer::finished);
    replayer.start();
    QTRY_VERIFY_WITH_TIMEOUT(positions.count() >= 6, 5000);
    replayer.stop();
    // A lap lasts the track (1000 ms) plus the 1000 ms gap before it starts again.
    const QList<qint64> expected {0, 10, 20, 30, 40, 50};
    for (int i = 0; i < 6; ++i) {
        QCOMPARE(positions.at(i).at(0).value<Position>().timestamp, expected.at(i));
        QCOMPARE(positions.at(i).at(1).toInt(), i % 2);
        QCOMPARE(positions.at(i).at(2).toInt(), i / 2);
    }
    QCOMPARE(finished.count(), 0);
}

void TestReplay::stopEndsReplay()
{
    const Track track = trackAt({0, 60'000});
    Replayer replayer(track, ReplayOptions());
    QSignalSpy positions(&replayer, &Replayer::positionReady);
    replayer.start();
    QCOMPARE(positions.count(), 1); // the first fix is due at once
    replayer.stop();
    QVERIFY(!replayer.isRunning());
    QVERIFY(!positions.wait(200));
    QCOMPARE(positions.count(), 1);
}

QTEST_GUILESS_MAIN(TestReplay)
#include "tst_replay.moc"
