#include "mapmath.h"

#include <QtTest>

using namespace Omw;

class tst_MapMath : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void projectKnownPoints_data();
    void projectKnownPoints();
    void projectRoundTrip_data();
    void projectRoundTrip();
    void latitudeLimits_data();
    void latitudeLimits();
    void tileAtKnownPlaces_data();
    void tileAtKnownPlaces();
    void wrapTileX_data();
    void wrapTileX();
    void wrapLongitude_data();
    void wrapLongitude();
    void tileIdValidity_data();
    void tileIdValidity();
    void tileTopLeftCorners();
    void tilesCoveringView();
    void tilesCoveringAntimeridian();
    void toViewNearestWorldCopy();
    void zoomAroundKeepsAnchor_data();
    void zoomAroundKeepsAnchor();
    void panMovesContent();
    void zoomClamped_data();
    void zoomClamped();
    void fitCoordinates();
    void distance_data();
    void distance();
    void bearing_data();
    void bearing();
    void metresPerPixelEquator();
};

void tst_MapMath::projectKnownPoints_data()
{
    QTest::addColumn<double>("latitude");
    QTest::addColumn<double>("longitude");
    QTest::addColumn<double>("zoom");
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("y");

    QTest::newRow("origin z0") << 0.0 << 0.0 << 0.0 << 128.0 << 128.0;
    QTest::newRow("origin z1") << 0.0 << 0.0 << 1.0 << 256.0 << 256.0;
    QTest::newRow("west edge") << 0.0 << -180.0 << 0.0 << 0.0 << 128.0;
    QTest::newRow("east edge") << 0.0 << 180.0 << 0.0 << 256.0 << 128.0;
    QTest::newRow("north limit") << MapMath::maxLatitude << 0.0 << 0.0 << 128.0 << 0.0;
    QTest::newRow("south limit") << -MapMath::maxLatitude << 0.0 << 0.0 << 128.0 << 256.0;
    QTest::newRow("fractional zoom")
        << 0.0 << 90.0 << 0.5 << 256 * M_SQRT2 * 0.75 << 256 * M_SQRT2 * 0.5;
}

void tst_MapMath::projectKnownPoints()
{
    QFETCH(double, latitude);
    QFETCH(double, longitude);
    QFETCH(double, zoom);
    QFETCH(double, x);
    QFETCH(double, y);

    const QPointF point = MapMath::project(QGeoCoordinate(latitude, longitude), zoom);
    QVERIFY2(std::fabs(point.x() - x) < 1e-6, qPrintable(QString::number(point.x(), 'f', 9)));
    QVERIFY2(std::fabs(point.y() - y) < 1e-6, qPrintable(QString::number(point.y(), 'f', 9)));
}

void tst_MapMath::projectRoundTrip_data()
{
    QTest::addColumn<double>("latitude");
    QTest::addColumn<double>("longitude");
    QTest::addColumn<double>("zoom");

    QTest::newRow("munich z12") << 48.1374 << 11.5755 << 12.0;
    QTest::newRow("sydney z19") << -33.8688 << 151.2093 << 19.0;
    QTest::newRow("just west of antimeridian") << 10.0 << 179.9999 << 15.0;
    QTest::newRow("just east of antimeridian") << -10.0 << -179.9999 << 15.0;
    QTest::newRow("near north limit") << 85.05 << 0.0 << 3.0;
    QTest::newRow("near south limit") << -85.05 << 0.0 << 3.0;
    QTest::newRow("fractional zoom") << 51.5074 << -0.1278 << 7.37;
}

void tst_MapMath::projectRoundTrip()
{
    QFETCH(double, latitude);
    QFETCH(double, longitude);
    QFETCH(double, zoom);

    const QGeoCoordinate back
        = MapMath::unproject(MapMath::project(QGeoCoordinate(latitude, longitude), zoom), zoom);
    QVERIFY2(std::fabs(back.latitude() - latitude) < 1e-9,
             qPrintable(QString::number(back.latitude(), 'f', 12)));
    QVERIFY2(std::fabs(back.longitude() - longitude) < 1e-9,
             qPrintable(QString::number(back.longitude(), 'f', 12)));
}

void tst_MapMath::latitudeLimits_data()
{
    QTest::addColumn<double>("latitude");
    QTest::addColumn<double>("expectedY"); // world pixels at zoom 0

    QTest::newRow("north limit") << 85.0511287798066 << 0.0;
    QTest::newRow("beyond north limit") << 85.06 << 0.0;
    QTest::newRow("north pole") << 90.0 << 0.0;
    QTest::newRow("south limit") << -85.0511287798066 << 256.0;
    QTest::newRow("beyond south limit") << -85.06 << 256.0;
    QTest::newRow("south pole") << -90.0 << 256.0;
}

void tst_MapMath::latitudeLimits()
{
    QFETCH(double, latitude);
    QFETCH(double, expectedY);

    const QPointF point = MapMath::project(QGeoCoordinate(latitude, 0), 0);
    QVERIFY(std::isfinite(point.y()));
    QVERIFY2(std::fabs(point.y() - expectedY) < 1e-6, qPrintable(QString::number(point.y())));
    // Just inside the limit is strictly inside the map.
    const double inside = latitude > 0 ? 85.05 : -85.05;
    const double y = MapMath::project(QGeoCoordinate(inside, 0), 0).y();
    QVERIFY(y > 0);
    QVERIFY(y < 256);
    // Points beyond the map's edges unproject to the limit.
    const QGeoCoordinate edge = MapMath::unproject(QPointF(128, latitude > 0 ? -50 : 300), 0);
    QCOMPARE(edge.latitude(), latitude > 0 ? MapMath::maxLatitude : -MapMath::maxLatitude);
}

void tst_MapMath::tileAtKnownPlaces_data()
{
    QTest::addColumn<double>("latitude");
    QTest::addColumn<double>("longitude");
    QTest::addColumn<int>("zoom");
    QTest::addColumn<int>("x");
    QTest::addColumn<int>("y");

    // Munich's Marienplatz at level 12 is tile 2179/1421 on OpenStreetMap.
    QTest::newRow("munich z12") << 48.1374 << 11.5755 << 12 << 2179 << 1421;
    QTest::newRow("z0") << 48.0 << 11.0 << 0 << 0 << 0;
    QTest::newRow("origin z1 is south-east") << 0.0 << 0.0 << 1 << 1 << 1;
    QTest::newRow("north-west corner") << MapMath::maxLatitude << -180.0 << 4 << 0 << 0;
    QTest::newRow("antimeridian east side") << 0.0 << 180.0 << 3 << 0 << 4;
    QTest::newRow("antimeridian west side") << 0.0 << 179.999 << 3 << 7 << 4;
    QTest::newRow("beyond south limit") << -89.0 << 0.0 << 2 << 2 << 3;
    QTest::newRow("beyond north limit") << 89.0 << 0.0 << 2 << 2 << 0;
}

void tst_MapMath::tileAtKnownPlaces()
{
    QFETCH(double, latitude);
    QFETCH(double, longitude);
    QFETCH(int, zoom);
    QFETCH(int, x);
    QFETCH(int, y);

    const MapMath::TileId tile = MapMath::tileAt(QGeoCoordinate(latitude, longitude), zoom);
    QCOMPARE(tile.z, zoom);
    QCOMPARE(tile.x, x);
    QCOMPARE(tile.y, y);
    QVERIFY(tile.isValid());
}

void tst_MapMath::wrapTileX_data()
{
    QTest::addColumn<int>("x");
    QTest::addColumn<int>("z");
    QTest::addColumn<int>("expected");

    QTest::newRow("inside") << 3 << 2 << 3;
    QTest::newRow("one past east") << 4 << 2 << 0;
    QTest::newRow("one before west") << -1 << 2 << 3;
    QTest::newRow("two worlds west") << -9 << 2 << 3;
    QTest::newRow("level 0") << 5 << 0 << 0;
}

void tst_MapMath::wrapTileX()
{
    QFETCH(int, x);
    QFETCH(int, z);
    QFETCH(int, expected);
    QCOMPARE(MapMath::wrapTileX(x, z), expected);
}

void tst_MapMath::wrapLongitude_data()
{
    QTest::addColumn<double>("longitude");
    QTest::addColumn<double>("expected");

    QTest::newRow("inside") << 11.5 << 11.5;
    QTest::newRow("180 becomes -180") << 180.0 << -180.0;
    QTest::newRow("just below 180") << 179.5 << 179.5;
    QTest::newRow("past 180") << 190.0 << -170.0;
    QTest::newRow("-180") << -180.0 << -180.0;
    QTest::newRow("past -180") << -190.0 << 170.0;
    QTest::newRow("many turns") << 740.0 << 20.0;
}

void tst_MapMath::wrapLongitude()
{
    QFETCH(double, longitude);
    QFETCH(double, expected);
    QCOMPARE(MapMath::wrapLongitude(longitude), expected);
}

void tst_MapMath::tileIdValidity_data()
{
    QTest::addColumn<int>("z");
    QTest::addColumn<int>("x");
    QTest::addColumn<int>("y");
    QTest::addColumn<bool>("valid");

    QTest::newRow("z0") << 0 << 0 << 0 << true;
    QTest::newRow("z0 x1") << 0 << 1 << 0 << false;
    QTest::newRow("last column") << 3 << 7 << 0 << true;
    QTest::newRow("past last column") << 3 << 8 << 0 << false;
    QTest::newRow("negative row") << 3 << 0 << -1 << false;
    QTest::newRow("z19") << 19 << 0 << 0 << true;
    QTest::newRow("z20") << 20 << 0 << 0 << false;
    QTest::newRow("negative zoom") << -1 << 0 << 0 << false;
}

void tst_MapMath::tileIdValidity()
{
    QFETCH(int, z);
    QFETCH(int, x);
    QFETCH(int, y);
    QFETCH(bool, valid);
    QCOMPARE((MapMath::TileId {z, x, y}.isValid()), valid);
}

void tst_MapMath::tileTopLeftCorners()
{
    const QGeoCoordinate northWest = MapMath::tileTopLeft({0, 0, 0});
    QVERIFY(std::fabs(northWest.latitude() - MapMath::maxLatitude) < 1e-9);
    QCOMPARE(northWest.longitude(), -180.0);
    const QGeoCoordinate centre = MapMath::tileTopLeft({1, 1, 1});
    QVERIFY(std::fabs(centre.latitude()) < 1e-9);
    QCOMPARE(centre.longitude(), 0.0);
    // The right edge of the map is 180°, not -180°.
    QCOMPARE(MapMath::tileTopLeft({1, 2, 1}).longitude(), 180.0);
    QCOMPARE((MapMath::TileId {5, 17, 9}.parent()), (MapMath::TileId {4, 8, 4}));
    QCOMPARE((MapMath::TileId {0, 0, 0}.parent()), (MapMath::TileId {0, 0, 0}));
}

void tst_MapMath::tilesCoveringView()
{
    // A 512x512 view centred on the corner of four tiles at level 2 shows exactly those four
    // plus the half tiles around them.
    const QVector<MapMath::TileId> tiles
        = MapMath::tilesCovering(QGeoCoordinate(0, 0), 2, QSizeF(512, 512), 2);
    QCOMPARE(tiles.size(), 9);
    QCOMPARE(tiles.first(), (MapMath::TileId {2, 1, 1}));
    QCOMPARE(tiles.last(), (MapMath::TileId {2, 3, 3}));
    // The same view drawn with level 1 tiles (zoom 2 is twice their size) needs all four.
    QCOMPARE(MapMath::tilesCovering(QGeoCoordinate(0, 0), 2, QSizeF(500, 500), 1).size(), 4);
    // Rows beyond the poles are left out: at level 0 the whole world is one row.
    const QVector<MapMath::TileId> world
        = MapMath::tilesCovering(QGeoCoordinate(0, 0), 0, QSizeF(1000, 1000), 0);
    for (const MapMath::TileId &tile : world) {
        QCOMPARE(tile.y, 0);
    }
    QVERIFY(MapMath::tilesCovering(QGeoCoordinate(), 2, QSizeF(100, 100), 2).isEmpty());
    QVERIFY(MapMath::tilesCovering(QGeoCoordinate(0, 0), 2, QSizeF(0, 100), 2).isEmpty());
}

void tst_MapMath::tilesCoveringAntimeridian()
{
    // Centred on the antimeridian at level 3: columns 7 (west of it) and 8 (the next world).
    const QVector<MapMath::TileId> tiles
        = MapMath::tilesCovering(QGeoCoordinate(0, 180), 3, QSizeF(256, 256), 3);
    QVector<int> columns;
    for (const MapMath::TileId &tile : tiles) {
        if (!columns.contains(tile.x)) {
            columns.append(tile.x);
        }
    }
    QCOMPARE(columns, (QVector<int> {7, 8}));
    QCOMPARE(MapMath::wrapTileX(8, 3), 0);
}

void tst_MapMath::toViewNearestWorldCopy()
{
    const QSizeF view(800, 600);
    // A ride just east of the antimeridian, seen from just west of it, is drawn right of the
    // centre, not a world away.
    const QPointF point
        = MapMath::toView(QGeoCoordinate(0, -179.9), QGeoCoordinate(0, 179.9), 10, view);
    const double expected = 0.2 / 360.0 * MapMath::worldSize(10);
    QVERIFY2(std::fabs(point.x() - (400 + expected)) < 1e-6,
             qPrintable(QString::number(point.x())));
    QVERIFY(std::fabs(point.y() - 300) < 1e-6);
    const QGeoCoordinate back = MapMath::fromView(point, QGeoCoordinate(0, 179.9), 10, view);
    QVERIFY(std::fabs(back.longitude() - -179.9) < 1e-9);
}

void tst_MapMath::zoomAroundKeepsAnchor_data()
{
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("y");
    QTest::addColumn<double>("zoom");
    QTest::addColumn<double>("newZoom");

    QTest::newRow("in at top left") << 10.0 << 20.0 << 10.0 << 11.0;
    QTest::newRow("out at bottom right") << 790.0 << 590.0 << 10.0 << 9.0;
    QTest::newRow("fractional at centre") << 400.0 << 300.0 << 10.0 << 10.25;
    QTest::newRow("wheel step") << 123.0 << 456.0 << 15.5 << 15.75;
}

void tst_MapMath::zoomAroundKeepsAnchor()
{
    QFETCH(double, x);
    QFETCH(double, y);
    QFETCH(double, zoom);
    QFETCH(double, newZoom);

    const QSizeF view(800, 600);
    const QGeoCoordinate center(48.1374, 11.5755);
    const QGeoCoordinate anchored = MapMath::fromView(QPointF(x, y), center, zoom, view);
    const QGeoCoordinate newCenter
        = MapMath::centerForZoomAround(QPointF(x, y), center, zoom, newZoom, view);
    const QPointF after = MapMath::toView(anchored, newCenter, newZoom, view);
    QVERIFY2(std::fabs(after.x() - x) < 1e-6, qPrintable(QString::number(after.x())));
    QVERIFY2(std::fabs(after.y() - y) < 1e-6, qPrintable(QString::number(after.y())));
}

void tst_MapMath::panMovesContent()
{
    const QSizeF view(800, 600);
    const QGeoCoordinate center(48.1374, 11.5755);
    const QGeoCoordinate ride(48.14, 11.58);
    const QPointF before = MapMath::toView(ride, center, 14, view);
    const QGeoCoordinate panned = MapMath::centerAfterPan(QPointF(50, -30), center, 14);
    const QPointF after = MapMath::toView(ride, panned, 14, view);
    QVERIFY(std::fabs(after.x() - (before.x() + 50)) < 1e-6);
    QVERIFY(std::fabs(after.y() - (before.y() - 30)) < 1e-6);
}

void tst_MapMath::zoomClamped_data()
{
    QTest::addColumn<double>("zoom");
    QTest::addColumn<double>("expected");

    QTest::newRow("below 0") << -0.5 << 0.0;
    QTest::newRow("0") << 0.0 << 0.0;
    QTest::newRow("19") << 19.0 << 19.0;
    QTest::newRow("above 19") << 19.01 << 19.0;
}

void tst_MapMath::zoomClamped()
{
    QFETCH(double, zoom);
    QFETCH(double, expected);
    QCOMPARE(MapMath::clampZoom(zoom), expected);
}

void tst_MapMath::fitCoordinates()
{
    const QSizeF view(1000, 1000);
    const QVector<QGeoCoordinate> points {{48.0, 11.0}, {48.2, 11.6}, QGeoCoordinate()};
    const MapMath::Fit fit = MapMath::fitCoordinates(points, view, 50, 17);
    QVERIFY(fit.center.isValid());
    for (const QGeoCoordinate &point : points) {
        if (!point.isValid()) {
            continue;
        }
        const QPointF onScreen = MapMath::toView(point, fit.center, fit.zoom, view);
        QVERIFY2(onScreen.x() >= 49.9 && onScreen.x() <= 950.1,
                 qPrintable(QString::number(onScreen.x())));
        QVERIFY2(onScreen.y() >= 49.9 && onScreen.y() <= 950.1,
                 qPrintable(QString::number(onScreen.y())));
    }
    // The widest extent touches the margin.
    const double left = MapMath::toView(points.at(0), fit.center, fit.zoom, view).x();
    QVERIFY2(std::fabs(left - 50) < 1e-6, qPrintable(QString::number(left)));

    const MapMath::Fit single = MapMath::fitCoordinates({{48.0, 11.0}}, view, 50, 16);
    QCOMPARE(single.zoom, 16.0);
    QVERIFY(std::fabs(single.center.latitude() - 48.0) < 1e-9);
    QVERIFY(!MapMath::fitCoordinates({}, view, 50, 16).center.isValid());
}

void tst_MapMath::distance_data()
{
    QTest::addColumn<QGeoCoordinate>("from");
    QTest::addColumn<QGeoCoordinate>("to");
    QTest::addColumn<double>("metres");
    QTest::addColumn<double>("tolerance");

    QTest::newRow("same point") << QGeoCoordinate(48, 11) << QGeoCoordinate(48, 11) << 0.0 << 1e-9;
    // One degree of latitude on the mean sphere: 2πR/360.
    QTest::newRow("one degree north") << QGeoCoordinate(0, 0) << QGeoCoordinate(1, 0)
                                      << 2 * M_PI * MapMath::earthRadius / 360 << 1e-6;
    QTest::newRow("across antimeridian") << QGeoCoordinate(0, 179.5) << QGeoCoordinate(0, -179.5)
                                         << 2 * M_PI * MapMath::earthRadius / 360 << 1e-6;
    QTest::newRow("antipodes") << QGeoCoordinate(0, 0) << QGeoCoordinate(0, 180)
                               << M_PI * MapMath::earthRadius << 1e-6;
}

void tst_MapMath::distance()
{
    QFETCH(QGeoCoordinate, from);
    QFETCH(QGeoCoordinate, to);
    QFETCH(double, metres);
    QFETCH(double, tolerance);
    const double measured = MapMath::distance(from, to);
    QVERIFY2(std::fabs(measured - metres) <= tolerance,
             qPrintable(QString::number(measured, 'f', 6)));
}

void tst_MapMath::bearing_data()
{
    QTest::addColumn<QGeoCoordinate>("from");
    QTest::addColumn<QGeoCoordinate>("to");
    QTest::addColumn<double>("degrees");

    QTest::newRow("north") << QGeoCoordinate(0, 0) << QGeoCoordinate(1, 0) << 0.0;
    QTest::newRow("east") << QGeoCoordinate(0, 0) << QGeoCoordinate(0, 1) << 90.0;
    QTest::newRow("south") << QGeoCoordinate(1, 0) << QGeoCoordinate(0, 0) << 180.0;
    QTest::newRow("west") << QGeoCoordinate(0, 1) << QGeoCoordinate(0, 0) << 270.0;
    QTest::newRow("east across antimeridian")
        << QGeoCoordinate(0, 179.5) << QGeoCoordinate(0, -179.5) << 90.0;
}

void tst_MapMath::bearing()
{
    QFETCH(QGeoCoordinate, from);
    QFETCH(QGeoCoordinate, to);
    QFETCH(double, degrees);
    const double measured = MapMath::bearing(from, to);
    QVERIFY(measured >= 0);
    QVERIFY(measured < 360);
    QVERIFY2(std::fabs(measured - degrees) < 1e-9, qPrintable(QString::number(measured, 'f', 12)));
}

void tst_MapMath::metresPerPixelEquator()
{
    // EPSG:3857 at level 0: 40075016.686 m over 256 px.
    QVERIFY(std::fabs(MapMath::metresPerPixel(0, 0) - 156543.03392804097) < 1e-6);
    QVERIFY(std::fabs(MapMath::metresPerPixel(60, 1) - 156543.03392804097 / 4) < 1e-6);
}

QTEST_APPLESS_MAIN(tst_MapMath)
#include "tst_mapmath.moc"
