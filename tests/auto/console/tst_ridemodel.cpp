#include "ridemodel.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Omw;

namespace {

constexpr qint64 baseTime = 1767225600000; // 2026-01-01T00:00:00Z

QJsonObject point(double latitude, double longitude, qint64 timestamp, QJsonValue speed = 10.0,
                  QJsonValue heading = 90.0)
{
    return QJsonObject {{QStringLiteral("latitude"), latitude},
                        {QStringLiteral("longitude"), longitude},
                        {QStringLiteral("speed"), speed},
                        {QStringLiteral("heading"), heading},
                        {QStringLiteral("timestamp"), double(timestamp)},
                        {QStringLiteral("received_at"), double(timestamp + 100)}};
}

QJsonObject snapshot(const QString &slug, const QString &state, const QJsonArray &trail)
{
    return QJsonObject {{QStringLiteral("slug"), slug},
                        {QStringLiteral("state"), state},
                        {QStringLiteral("last"), trail.isEmpty() ? QJsonValue() : trail.last()},
                        {QStringLiteral("trail"), trail}};
}

} // namespace

class tst_RideModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void addAndRemove();
    void snapshotReplacesRide();
    void snapshotWithoutSlugIgnored();
    void waitingSnapshot();
    void coordinatesAppendToTrail();
    void olderPointIgnored();
    void repeatedPointNotAppended();
    void coordinatesWithoutPositionIgnored();
    void stateTransitions();
    void staleBoundary_data();
    void staleBoundary();
    void markerKind_data();
    void markerKind();
    void derivedFromTrail_data();
    void derivedFromTrail();
    void speedUnits_data();
    void speedUnits();
    void ageText_data();
    void ageText();
    void trailBounded();
    void selection();
    void firstFixSignal();
    void eventsForUnknownRide();

private:
    RideModel *m_model = nullptr;
    QAbstractItemModelTester *m_tester = nullptr;
};

void tst_RideModel::init()
{
    m_model = new RideModel(this);
    m_model->setClockRunning(false);
    m_model->setNow(baseTime);
    m_tester = new QAbstractItemModelTester(
        m_model, QAbstractItemModelTester::FailureReportingMode::QtTest, this);
}

void tst_RideModel::cleanup()
{
    delete m_tester;
    delete m_model;
}

void tst_RideModel::addAndRemove()
{
    QSignalSpy countSpy(m_model, &RideModel::countChanged);
    QCOMPARE(m_model->addRide(QStringLiteral("describe-canoe")), 0);
    QCOMPARE(m_model->addRide(QStringLiteral("ribbon-spray")), 1);
    QCOMPARE(m_model->addRide(QStringLiteral("describe-canoe")), 0); // listed already
    QCOMPARE(m_model->rowCount(), 2);
    QCOMPARE(countSpy.count(), 2);
    const QModelIndex first = m_model->index(0);
    QCOMPARE(first.data(RideModel::SlugRole).toString(), QStringLiteral("describe-canoe"));
    QCOMPARE(first.data(RideModel::StateRole).toInt(), int(RideModel::Waiting));
    QCOMPARE(first.data(RideModel::MarkerRole).toInt(), int(RideModel::NoMarker));
    QCOMPARE(first.data(RideModel::AgeRole).toLongLong(), -1);
    QCOMPARE(first.data(RideModel::SpeedTextRole).toString(), QStringLiteral("–"));
    QVERIFY(!first.data(RideModel::CoordinateRole).value<QGeoCoordinate>().isValid());
    QVERIFY(m_model->removeRide(QStringLiteral("describe-canoe")));
    QVERIFY(!m_model->removeRide(QStringLiteral("describe-canoe")));
    QCOMPARE(m_model->rowCount(), 1);
    QCOMPARE(m_model->indexOf(QStringLiteral("ribbon-spray")), 0);
    QCOMPARE(countSpy.count(), 3);
    m_model->clear();
    QCOMPARE(m_model->rowCount(), 0);
}

void tst_RideModel::snapshotReplacesRide()
{
    const QJsonArray trail {point(48.0, 11.0, baseTime - 20000),
                            point(48.001, 11.0, baseTime - 10000),
                            point(48.002, 11.0, baseTime - 5000, 12.5, 0.0)};
    QVERIFY(m_model->applySnapshot(
        snapshot(QStringLiteral("describe-canoe"), QStringLiteral("live"), trail)));
    QCOMPARE(m_model->rowCount(), 1);
    const QModelIndex index = m_model->index(0);
    QCOMPARE(index.data(RideModel::StateRole).toInt(), int(RideModel::Live));
    QCOMPARE(index.data(RideModel::StateTextRole).toString(), QStringLiteral("live"));
    QCOMPARE(index.data(RideModel::TrailLengthRole).toInt(), 3);
    QCOMPARE(index.data(RideModel::SpeedRole).toDouble(), 12.5);
    QCOMPARE(index.data(RideModel::HeadingRole).toDouble(), 0.0);
    QCOMPARE(index.data(RideModel::HeadingTextRole).toString(), QStringLiteral("N 0°"));
    QCOMPARE(index.data(RideModel::SpeedTextRole).toString(), QStringLiteral("45 km/h"));
    QCOMPARE(index.data(RideModel::AgeRole).toLongLong(), 5);
    QCOMPARE(index.data(RideModel::AgeTextRole).toString(), QStringLiteral("5 s"));
    QCOMPARE(index.data(RideModel::TimestampRole).toLongLong(), baseTime - 5000);
    const QGeoCoordinate coordinate = index.data(RideModel::CoordinateRole).value<QGeoCoordinate>();
    QCOMPARE(coordinate.latitude(), 48.002);
    QCOMPARE(coordinate.longitude(), 11.0);
    // 0.002° of latitude on the mean sphere is 222.4 m.
    const double distance = index.data(RideModel::DistanceRole).toDouble();
    QVERIFY2(std::fabs(distance - 222.39) < 0.1, qPrintable(QString::number(distance)));
    QCOMPARE(index.data(RideModel::DistanceTextRole).toString(), QStringLiteral("0.2 km"));

    // A later snapshot, as after a reconnect, replaces the trail instead of adding to it.
    QSignalSpy changed(m_model, &QAbstractItemModel::dataChanged);
    QVERIFY(
        m_model->applySnapshot(snapshot(QStringLiteral("describe-canoe"), QStringLiteral("offline"),
                                        {point(48.01, 11.0, baseTime - 1000)})));
    QCOMPARE(m_model->rowCount(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(index.data(RideModel::TrailLengthRole).toInt(), 1);
    QCOMPARE(index.data(RideModel::DistanceRole).toDouble(), 0.0);
    QCOMPARE(index.data(RideModel::StateRole).toInt(), int(RideModel::Offline));
}

void tst_RideModel::snapshotWithoutSlugIgnored()
{
    QTest::ignoreMessage(QtWarningMsg, "ignoring a snapshot without a slug");
    QVERIFY(
        !m_model->applySnapshot(QJsonObject {{QStringLiteral("state"), QStringLiteral("live")}}));
    QCOMPARE(m_model->rowCount(), 0);
}

void tst_RideModel::waitingSnapshot()
{
    QVERIFY(m_model->applySnapshot(
        QJsonObject {{QStringLiteral("slug"), QStringLiteral("describe-canoe")},
                     {QStringLiteral("state"), QStringLiteral("waiting")},
                     {QStringLiteral("last"), QJsonValue()},
                     {QStringLiteral("trail"), QJsonArray()}}));
    const QModelIndex index = m_model->index(0);
    QCOMPARE(index.data(RideModel::StateRole).toInt(), int(RideModel::Waiting));
    QCOMPARE(index.data(RideModel::HasFixRole).toBool(), false);
    QCOMPARE(index.data(RideModel::LastUpdateTextRole).toString(), QStringLiteral("–"));
    QVERIFY(m_model->coordinates().isEmpty());
}

void tst_RideModel::coordinatesAppendToTrail()
{
    m_model->applySnapshot(snapshot(QStringLiteral("describe-canoe"), QStringLiteral("live"),
                                    {point(48.0, 11.0, baseTime - 3000)}));
    QSignalSpy trails(m_model, &RideModel::trailsChanged);
    QVERIFY(m_model->applyCoordinates(QStringLiteral("describe-canoe"),
                                      point(48.0, 11.001, baseTime - 2000, 15.0, 91.0)));
    QVERIFY(m_model->applyCoordinates(QStringLiteral("describe-canoe"),
                                      point(48.0, 11.002, baseTime - 1000, 16.0, 92.0)));
    QCOMPARE(trails.count(), 2);
    const QModelIndex index = m_model->index(0);
    QCOMPARE(index.data(RideModel::TrailLengthRole).toInt(), 3);
    QCOMPARE(index.data(RideModel::HeadingRole).toDouble(), 92.0);
    QCOMPARE(m_model->rideAt(0).trail.last().longitude, 11.002);
    const double distance = index.data(RideModel::DistanceRole).toDouble();
    // 0.002° of longitude at 48° N: 2πR/360 * 0.002 * cos(48°) = 148.8 m.
    QVERIFY2(std::fabs(distance - 148.8) < 0.2, qPrintable(QString::number(distance)));
}

void tst_RideModel::olderPointIgnored()
{
    m_model->applyCoordinates(QStringLiteral("describe-canoe"), point(48.0, 11.0, baseTime - 1000));
    QVERIFY(!m_model->applyCoordinates(QStringLiteral("describe-canoe"),
                                       point(48.5, 11.5, baseTime - 2000)));
    QCOMPARE(m_model->rideAt(0).last.latitude, 48.0);
    QCOMPARE(m_model->rideAt(0).trail.size(), 1);
}

void tst_RideModel::repeatedPointNotAppended()
{
    const QJsonObject fix = point(48.0, 11.0, baseTime - 1000);
    QVERIFY(m_model->applyCoordinates(QStringLiteral("describe-canoe"), fix));
    QVERIFY(m_model->applyCoordinates(QStringLiteral("describe-canoe"), fix));
    QCOMPARE(m_model->rideAt(0).trail.size(), 1);
    QCOMPARE(m_model->rideAt(0).distance, 0.0);
}

void tst_RideModel::coordinatesWithoutPositionIgnored()
{
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("without a position")));
    QVERIFY(!m_model->applyCoordinates(QStringLiteral("describe-canoe"),
                                       QJsonObject {{QStringLiteral("speed"), 3.0}}));
    QCOMPARE(m_model->rowCount(), 0);
}

void tst_RideModel::stateTransitions()
{
    const QString slug = QStringLiteral("describe-canoe");
    m_model->addRide(slug);
    QCOMPARE(m_model->stateAt(0), RideModel::Waiting);
    m_model->applyCoordinates(slug, point(48.0, 11.0, baseTime - 1000));
    QCOMPARE(m_model->stateAt(0), RideModel::Live);
    QVERIFY(m_model->applyOffline(slug, baseTime));
    QCOMPARE(m_model->stateAt(0), RideModel::Offline);
    QCOMPARE(m_model->rideAt(0).offlineSince, baseTime);
    QVERIFY(m_model->applyOnline(slug));
    QCOMPARE(m_model->stateAt(0), RideModel::Live);
    QCOMPARE(m_model->rideAt(0).offlineSince, 0);
    QVERIFY(m_model->applyTerminated(slug));
    QCOMPARE(m_model->stateAt(0), RideModel::Ended);
    // A rider who comes back after TERMINATED makes the ride live again.
    m_model->applyCoordinates(slug, point(48.0, 11.0, baseTime));
    QCOMPARE(m_model->stateAt(0), RideModel::Live);
    // An offline rider's next point brings it back too.
    m_model->applyOffline(slug, baseTime);
    m_model->applyCoordinates(slug, point(48.0, 11.001, baseTime + 1));
    QCOMPARE(m_model->stateAt(0), RideModel::Live);
    // Online without any fix yet is still waiting.
    m_model->addRide(QStringLiteral("ribbon-spray"));
    m_model->applyOffline(QStringLiteral("ribbon-spray"), baseTime);
    m_model->applyOnline(QStringLiteral("ribbon-spray"));
    QCOMPARE(m_model->stateAt(1), RideModel::Waiting);
}

void tst_RideModel::staleBoundary_data()
{
    QTest::addColumn<qint64>("ageMs");
    QTest::addColumn<int>("state");

    QTest::newRow("fresh") << qint64(0) << int(RideModel::Live);
    QTest::newRow("exactly stale-after") << qint64(60000) << int(RideModel::Live);
    QTest::newRow("just past stale-after") << qint64(60001) << int(RideModel::Stale);
    QTest::newRow("long ago") << qint64(3600000) << int(RideModel::Stale);
}

void tst_RideModel::staleBoundary()
{
    QFETCH(qint64, ageMs);
    QFETCH(int, state);
    m_model->setStaleAfter(60);
    m_model->applyCoordinates(QStringLiteral("describe-canoe"), point(48.0, 11.0, baseTime));
    QSignalSpy changed(m_model, &QAbstractItemModel::dataChanged);
    m_model->setNow(baseTime + ageMs);
    QCOMPARE(changed.count(), ageMs == 0 ? 0 : 1);
    QCOMPARE(m_model->index(0).data(RideModel::StateRole).toInt(), state);
}

void tst_RideModel::markerKind_data()
{
    QTest::addColumn<QJsonValue>("speed");
    QTest::addColumn<QJsonValue>("heading");
    QTest::addColumn<int>("marker");

    QTest::newRow("moving with heading")
        << QJsonValue(10.0) << QJsonValue(45.0) << int(RideModel::HeadingMarker);
    QTest::newRow("heading 0") << QJsonValue(10.0) << QJsonValue(0.0)
                               << int(RideModel::HeadingMarker);
    QTest::newRow("stationary") << QJsonValue(0.0) << QJsonValue(45.0)
                                << int(RideModel::StationaryMarker);
    QTest::newRow("just below threshold")
        << QJsonValue(0.49) << QJsonValue(45.0) << int(RideModel::StationaryMarker);
    QTest::newRow("at threshold") << QJsonValue(0.5) << QJsonValue(45.0)
                                  << int(RideModel::HeadingMarker);
    QTest::newRow("heading unknown")
        << QJsonValue(10.0) << QJsonValue() << int(RideModel::UnknownHeadingMarker);
    QTest::newRow("stationary without heading")
        << QJsonValue(0.0) << QJsonValue() << int(RideModel::StationaryMarker);
    QTest::newRow("speed unknown")
        << QJsonValue() << QJsonValue(45.0) << int(RideModel::HeadingMarker);
    QTest::newRow("both unknown") << QJsonValue() << QJsonValue()
                                  << int(RideModel::UnknownHeadingMarker);
}

void tst_RideModel::markerKind()
{
    QFETCH(QJsonValue, speed);
    QFETCH(QJsonValue, heading);
    QFETCH(int, marker);
    m_model->applyCoordinates(QStringLiteral("describe-canoe"),
                              point(48.0, 11.0, baseTime, speed, heading));
    QCOMPARE(m_model->index(0).data(RideModel::MarkerRole).toInt(), marker);
}

void tst_RideModel::derivedFromTrail_data()
{
    QTest::addColumn<double>("latitudeStep"); // degrees north between the two fixes
    QTest::addColumn<double>("longitudeStep"); // degrees east
    QTest::addColumn<qint64>("elapsed"); // ms between the two fixes
    QTest::addColumn<int>("marker");
    QTest::addColumn<QString>("speedText");
    QTest::addColumn<QString>("headingText");

    // 0.001° of latitude is 111.2 m: 11.1 m/s over 10 s.
    QTest::newRow("north") << 0.001 << 0.0 << qint64(10000) << int(RideModel::HeadingMarker)
                           << "≈ 40 km/h"
                           << "≈ N 0°";
    // On the equator 0.001° of longitude is 111.2 m too.
    QTest::newRow("east") << 0.0 << 0.001 << qint64(10000) << int(RideModel::HeadingMarker)
                          << "≈ 40 km/h"
                          << "≈ E 90°";
    // 0.0001° is 11.1 m, just over the 10 m needed for a course.
    QTest::newRow("just far enough")
        << 0.0001 << 0.0 << qint64(10000) << int(RideModel::HeadingMarker) << "≈ 4 km/h"
        << "≈ N 0°";
    // 0.00008° is 8.9 m: too close for a course, still moving.
    QTest::newRow("too close for a course")
        << 0.00008 << 0.0 << qint64(5000) << int(RideModel::UnknownHeadingMarker) << "≈ 6 km/h"
        << "–";
    QTest::newRow("slow is stationary")
        << 0.00001 << 0.0 << qint64(10000) << int(RideModel::StationaryMarker) << "≈ 0 km/h"
        << "–";
    QTest::newRow("same timestamp")
        << 0.001 << 0.0 << qint64(0) << int(RideModel::HeadingMarker) << "–"
        << "≈ N 0°";
}

void tst_RideModel::derivedFromTrail()
{
    QFETCH(double, latitudeStep);
    QFETCH(double, longitudeStep);
    QFETCH(qint64, elapsed);
    QFETCH(int, marker);
    QFETCH(QString, speedText);
    QFETCH(QString, headingText);

    // Browsers send neither speed nor heading: both come from the last two fixes.
    const QString slug = QStringLiteral("describe-canoe");
    m_model->applyCoordinates(slug,
                              point(0.0, 10.0, baseTime - elapsed, QJsonValue(), QJsonValue()));
    m_model->applyCoordinates(
        slug, point(latitudeStep, 10.0 + longitudeStep, baseTime, QJsonValue(), QJsonValue()));
    const QModelIndex index = m_model->index(0);
    QCOMPARE(index.data(RideModel::MarkerRole).toInt(), marker);
    QCOMPARE(index.data(RideModel::SpeedTextRole).toString(), speedText);
    QCOMPARE(index.data(RideModel::HeadingTextRole).toString(), headingText);
    QCOMPARE(index.data(RideModel::HeadingDerivedRole).toBool(),
             headingText != QStringLiteral("–"));
    QCOMPARE(index.data(RideModel::SpeedDerivedRole).toBool(), speedText != QStringLiteral("–"));
    // Reported values always win over derived ones.
    m_model->applyCoordinates(slug, point(2 * latitudeStep, 10.0, baseTime + 1000, 3.0, 200.0));
    QCOMPARE(index.data(RideModel::HeadingTextRole).toString(), QStringLiteral("S 200°"));
    QCOMPARE(index.data(RideModel::SpeedTextRole).toString(), QStringLiteral("11 km/h"));
    QCOMPARE(index.data(RideModel::HeadingDerivedRole).toBool(), false);
}

void tst_RideModel::speedUnits_data()
{
    QTest::addColumn<QString>("unit");
    QTest::addColumn<double>("speed");
    QTest::addColumn<QString>("speedText");
    QTest::addColumn<QString>("distanceText");

    // 10 m/s, and a trail of 0.1° of latitude (11.12 km).
    QTest::newRow("km/h") << "km/h" << 10.0 << "36 km/h"
                          << "11.1 km";
    QTest::newRow("mph") << "mph" << 10.0 << "22 mph"
                         << "6.9 mi";
    QTest::newRow("kn") << "kn" << 10.0 << "19 kn"
                        << "6.0 nmi";
    QTest::newRow("zero") << "km/h" << 0.0 << "0 km/h"
                          << "11.1 km";
}

void tst_RideModel::speedUnits()
{
    QFETCH(QString, unit);
    QFETCH(double, speed);
    QFETCH(QString, speedText);
    QFETCH(QString, distanceText);
    m_model->applySnapshot(
        snapshot(QStringLiteral("describe-canoe"), QStringLiteral("live"),
                 {point(48.0, 11.0, baseTime - 1000), point(48.1, 11.0, baseTime, speed)}));
    QSignalSpy unitSpy(m_model, &RideModel::speedUnitChanged);
    m_model->setSpeedUnit(unit);
    QCOMPARE(unitSpy.count(), unit == QLatin1String("km/h") ? 0 : 1);
    QCOMPARE(m_model->index(0).data(RideModel::SpeedTextRole).toString(), speedText);
    QCOMPARE(m_model->index(0).data(RideModel::DistanceTextRole).toString(), distanceText);
}

void tst_RideModel::ageText_data()
{
    QTest::addColumn<qint64>("ageMs");
    QTest::addColumn<QString>("text");

    QTest::newRow("now") << qint64(2999) << "now";
    QTest::newRow("3 s") << qint64(3000) << "3 s";
    QTest::newRow("59 s") << qint64(59999) << "59 s";
    QTest::newRow("1 min") << qint64(60000) << "1 min";
    QTest::newRow("59 min") << qint64(3599000) << "59 min";
    QTest::newRow("1 h") << qint64(3600000) << "1 h 00 min";
    QTest::newRow("2 h 5 min") << qint64(7500000) << "2 h 05 min";
}

void tst_RideModel::ageText()
{
    QFETCH(qint64, ageMs);
    QFETCH(QString, text);
    m_model->applyCoordinates(QStringLiteral("describe-canoe"), point(48.0, 11.0, baseTime));
    m_model->setNow(baseTime + ageMs);
    QCOMPARE(m_model->index(0).data(RideModel::AgeTextRole).toString(), text);
}

void tst_RideModel::trailBounded()
{
    const QString slug = QStringLiteral("describe-canoe");
    for (int i = 0; i < RideModel::maxTrailPoints + 10; ++i) {
        m_model->applyCoordinates(slug, point(48.0 + i * 1e-5, 11.0, baseTime + i));
    }
    const Ride &ride = m_model->rideAt(0);
    QCOMPARE(ride.trail.size(), RideModel::maxTrailPoints);
    QCOMPARE(ride.trail.first().timestamp, baseTime + 10);
    // The distance keeps the part of the ride whose points were dropped.
    QVERIFY2(ride.distance > (RideModel::maxTrailPoints + 8) * 1.11,
             qPrintable(QString::number(ride.distance)));
}

void tst_RideModel::selection()
{
    m_model->addRide(QStringLiteral("describe-canoe"));
    m_model->addRide(QStringLiteral("ribbon-spray"));
    QSignalSpy selected(m_model, &RideModel::selectedSlugChanged);
    QSignalSpy changed(m_model, &QAbstractItemModel::dataChanged);
    m_model->setSelectedSlug(QStringLiteral("ribbon-spray"));
    QCOMPARE(selected.count(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(m_model->index(1).data(RideModel::SelectedRole).toBool(), true);
    QCOMPARE(m_model->index(0).data(RideModel::SelectedRole).toBool(), false);
    m_model->setSelectedSlug(QStringLiteral("describe-canoe"));
    QCOMPARE(changed.count(), 3); // the old row and the new one
    m_model->removeRide(QStringLiteral("describe-canoe"));
    QCOMPARE(m_model->selectedSlug(), QString());
}

void tst_RideModel::firstFixSignal()
{
    QSignalSpy firstFix(m_model, &RideModel::firstFixArrived);
    m_model->addRide(QStringLiteral("describe-canoe"));
    QCOMPARE(firstFix.count(), 0);
    m_model->applyCoordinates(QStringLiteral("describe-canoe"), point(48.0, 11.0, baseTime));
    m_model->applyCoordinates(QStringLiteral("describe-canoe"), point(48.0, 11.1, baseTime + 1));
    QCOMPARE(firstFix.count(), 1);
    QCOMPARE(firstFix.at(0).at(0).toString(), QStringLiteral("describe-canoe"));
    m_model->applySnapshot(
        snapshot(QStringLiteral("ribbon-spray"), QStringLiteral("live"), {point(1, 2, baseTime)}));
    QCOMPARE(firstFix.count(), 2);
}

void tst_RideModel::eventsForUnknownRide()
{
    QVERIFY(!m_model->applyOffline(QStringLiteral("nobody-here"), baseTime));
    QVERIFY(!m_model->applyOnline(QStringLiteral("nobody-here")));
    QVERIFY(!m_model->applyTerminated(QStringLiteral("nobody-here")));
    QCOMPARE(m_model->rowCount(), 0);
}

QTEST_GUILESS_MAIN(tst_RideModel)
#include "tst_ridemodel.moc"
