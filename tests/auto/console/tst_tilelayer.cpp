#include "httptilesource.h"
#include "loopbacktileserver.h"
#include "tilelayer.h"

#include <QPainter>
#include <QTemporaryDir>
#include <QtTest>

using namespace Omw;
using MapMath::TileId;

namespace {

// Fails every tile on its first request and delivers it on the next, as a tile server that
// was briefly unreachable.
class FlakyTileSource : public TileSource
{
public:
    Kind kind() const override { return Http; }
    void requestTile(const TileId &tile) override
    {
        const bool failNow = !m_requested.contains(tile);
        m_requested.insert(tile);
        ++requests;
        QTimer::singleShot(0, this, [this, tile, failNow] {
            if (failNow) {
                Q_EMIT tileFailed(tile, QStringLiteral("unreachable"));
            } else {
                QImage image(256, 256, QImage::Format_RGB32);
                image.fill(LoopbackTileServer::tileColor(tile.z, tile.x, tile.y));
                Q_EMIT tileReady(tile, image);
            }
        });
    }

    int requests = 0;

private:
    QSet<TileId> m_requested;
};

} // namespace

// The tile layer drawn straight into an image: which tiles it requests, what it paints while
// they load, and the graticule without tiles.
class tst_TileLayer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void graticuleWithoutTiles();
    void graticuleStep_data();
    void graticuleStep();
    void drawsLoadedTiles();
    void noGapsWhileZoomingIn();
    void noGapsWhileZoomingOut();
    void viewAcrossAntimeridian();
    void failedTilesRetried();
    void tileLevelFollowsZoom_data();
    void tileLevelFollowsZoom();

private:
    static QImage render(TileLayer &layer);
};

void tst_TileLayer::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    qRegisterMetaType<TileId>();
}

QImage tst_TileLayer::render(TileLayer &layer)
{
    QImage image(int(layer.width()), int(layer.height()), QImage::Format_RGB32);
    image.fill(Qt::black);
    QPainter painter(&image);
    layer.paint(&painter);
    return image;
}

void tst_TileLayer::graticuleWithoutTiles()
{
    TileLayer layer;
    layer.setSize(QSizeF(512, 512));
    layer.setCenter(QGeoCoordinate(0, 0));
    layer.setZoom(2);
    QTRY_VERIFY(layer.isComplete());
    const QImage image = render(layer);
    const QColor background = layer.backgroundColor();
    // At zoom 2 the step is 30°, 85 px apart: 180° of longitude in view gives 6 or 7
    // meridians. Row 230 (about 9° N) crosses no parallel.
    int lines = 0;
    bool inLine = false;
    for (int x = 0; x < image.width(); ++x) {
        const bool line = image.pixelColor(x, 230) != background;
        if (line && !inLine) {
            ++lines;
        }
        inLine = line;
    }
    QVERIFY2(lines == 6 || lines == 7, qPrintable(QString::number(lines)));
    QCOMPARE(image.pixelColor(300, 230), background);
}

void tst_TileLayer::graticuleStep_data()
{
    QTest::addColumn<double>("zoom");
    QTest::addColumn<double>("step");

    QTest::newRow("world") << 0.0 << 30.0;
    QTest::newRow("zoom 5") << 5.0 << 5.0;
    QTest::newRow("zoom 10") << 10.0 << 0.2;
    QTest::newRow("zoom 15") << 15.0 << 0.005;
    QTest::newRow("zoom 19") << 19.0 << 0.0005;
}

void tst_TileLayer::graticuleStep()
{
    QFETCH(double, zoom);
    QFETCH(double, step);
    QCOMPARE(TileLayer::graticuleStep(zoom), step);
    // Lines are at least 80 px apart at the equator.
    QVERIFY(step / (360.0 / MapMath::worldSize(zoom)) >= 80 || step == 30.0);
}

void tst_TileLayer::drawsLoadedTiles()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    QTemporaryDir cache;
    HttpTileSource source(server.urlTemplate(), cache.path(), 1024 * 1024);
    TileLayer layer;
    layer.setSize(QSizeF(512, 512));
    layer.setSource(&source);
    layer.setCenter(QGeoCoordinate(0, 0));
    layer.setZoom(2);
    QTRY_VERIFY(layer.isComplete());
    // A 512 px view at zoom 2 centred on the origin shows the corners of 3x3 tiles.
    QCOMPARE(server.requests().size(), 9);
    const QImage image = render(layer);
    // Just north-west of the centre lies tile 2/1/1, just south-east tile 2/2/2.
    QCOMPARE(image.pixelColor(250, 250), LoopbackTileServer::tileColor(2, 1, 1));
    QCOMPARE(image.pixelColor(262, 262), LoopbackTileServer::tileColor(2, 2, 2));
    QCOMPARE(image.pixelColor(5, 5), LoopbackTileServer::tileColor(2, 1, 1));
    QCOMPARE(image.pixelColor(511, 511), LoopbackTileServer::tileColor(2, 2, 2));
}

void tst_TileLayer::noGapsWhileZoomingIn()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    QTemporaryDir cache;
    HttpTileSource source(server.urlTemplate(), cache.path(), 1024 * 1024);
    TileLayer layer;
    layer.setSize(QSizeF(512, 512));
    layer.setSource(&source);
    layer.setCenter(QGeoCoordinate(0, 0));
    layer.setZoom(2);
    QTRY_VERIFY(layer.isComplete());

    // Level 3 tiles are not loaded yet: their level 2 parents are drawn in their place.
    layer.setZoom(3);
    QVERIFY(!layer.isComplete());
    const QImage loading = render(layer);
    QCOMPARE(loading.pixelColor(250, 250), LoopbackTileServer::tileColor(2, 1, 1));
    QCOMPARE(loading.pixelColor(262, 262), LoopbackTileServer::tileColor(2, 2, 2));
    for (const QPoint &point : {QPoint(0, 0), QPoint(511, 0), QPoint(0, 511), QPoint(511, 511)}) {
        QVERIFY(loading.pixelColor(point) != layer.backgroundColor());
    }

    QTRY_VERIFY(layer.isComplete());
    const QImage loaded = render(layer);
    QCOMPARE(loaded.pixelColor(250, 250), LoopbackTileServer::tileColor(3, 3, 3));
    QCOMPARE(loaded.pixelColor(262, 262), LoopbackTileServer::tileColor(3, 4, 4));
}

void tst_TileLayer::noGapsWhileZoomingOut()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    HttpTileSource source(server.urlTemplate(), QString(), 0);
    TileLayer layer;
    layer.setSize(QSizeF(256, 256));
    layer.setSource(&source);
    layer.setCenter(MapMath::tileTopLeft({4, 8, 8}));
    layer.setZoom(4);
    QTRY_VERIFY(layer.isComplete());
    // The four level 4 tiles around the centre stand in for their level 3 parent.
    layer.setZoom(3);
    const QImage loading = render(layer);
    QCOMPARE(loading.pixelColor(127, 127), LoopbackTileServer::tileColor(4, 7, 7));
    QCOMPARE(loading.pixelColor(129, 129), LoopbackTileServer::tileColor(4, 8, 8));
    QTRY_VERIFY(layer.isComplete());
    QCOMPARE(render(layer).pixelColor(129, 129), LoopbackTileServer::tileColor(3, 4, 4));
}

void tst_TileLayer::viewAcrossAntimeridian()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    HttpTileSource source(server.urlTemplate(), QString(), 0);
    TileLayer layer;
    layer.setSize(QSizeF(256, 256));
    layer.setSource(&source);
    layer.setCenter(QGeoCoordinate(0, 180));
    layer.setZoom(3);
    QTRY_VERIFY(layer.isComplete());
    const QImage image = render(layer);
    // West of the antimeridian is column 7, east of it column 0 of the same world.
    QCOMPARE(image.pixelColor(100, 100), LoopbackTileServer::tileColor(3, 7, 3));
    QCOMPARE(image.pixelColor(156, 100), LoopbackTileServer::tileColor(3, 0, 3));
    for (const LoopbackTileServer::Request &request : server.requests()) {
        QVERIFY2(!request.path.startsWith("/3/8/"), request.path.constData());
        QVERIFY2(!request.path.startsWith("/3/-1/"), request.path.constData());
    }
}

void tst_TileLayer::failedTilesRetried()
{
    FlakyTileSource source;
    TileLayer layer;
    layer.setRetryInterval(300);
    layer.setSize(QSizeF(256, 256));
    layer.setSource(&source);
    layer.setCenter(QGeoCoordinate(0, 0));
    layer.setZoom(0);
    // The single tile of level 0 fails first: the view is complete, with the background.
    QTRY_COMPARE(source.requests, 1);
    QTRY_VERIFY(layer.isComplete());
    QCOMPARE(render(layer).pixelColor(128, 128), layer.backgroundColor());
    // After the retry interval it is requested again, and drawn.
    QTRY_COMPARE(source.requests, 2);
    QTRY_COMPARE(render(layer).pixelColor(128, 128), LoopbackTileServer::tileColor(0, 0, 0));
    QVERIFY(layer.isComplete());
}

void tst_TileLayer::tileLevelFollowsZoom_data()
{
    QTest::addColumn<double>("zoom");
    QTest::addColumn<int>("level");

    QTest::newRow("integer") << 12.0 << 12;
    QTest::newRow("just below half") << 12.49 << 12;
    QTest::newRow("half") << 12.5 << 13;
    QTest::newRow("maximum") << 19.0 << 19;
    QTest::newRow("beyond maximum") << 21.0 << 19;
}

void tst_TileLayer::tileLevelFollowsZoom()
{
    QFETCH(double, zoom);
    QFETCH(int, level);
    TileLayer layer;
    layer.setZoom(zoom);
    QCOMPARE(layer.tileLevel(), level);
}

QTEST_MAIN(tst_TileLayer)
#include "tst_tilelayer.moc"
