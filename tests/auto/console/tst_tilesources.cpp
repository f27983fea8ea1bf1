#include "httptilesource.h"
#include "loopbacktileserver.h"
#include "mbtilessource.h"
#include "tilesource.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

using namespace Omw;
using MapMath::TileId;

class tst_TileSources : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void createFromSpec_data();
    void createFromSpec();
    void openStreetMapDefaults();
    void urlTemplatePlaceholders();
    void httpTileFromLoopback();
    void httpErrorStatus();
    void httpNotAnImage();
    void diskCacheOnSecondStart();
    void noTilesSource();
    void mbtilesTile();
    void mbtilesMissingTile();
    void mbtilesMetadata();
    void mbtilesNotFound();
    void mbtilesNotAnMbtilesFile();

private:
    QString writeMbtiles(const QString &name, const QList<TileId> &tiles);

    QTemporaryDir m_dir;
};

void tst_TileSources::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    qRegisterMetaType<TileId>();
}

void tst_TileSources::createFromSpec_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("created");
    QTest::addColumn<int>("kind");

    QTest::newRow("none") << "none" << true << int(TileSource::None);
    QTest::newRow("empty") << "" << true << int(TileSource::None);
    QTest::newRow("mbtiles") << "/nonexistent/offline.mbtiles" << true << int(TileSource::MbTiles);
    QTest::newRow("mbtiles upper case")
        << "/nonexistent/OFFLINE.MBTILES" << true << int(TileSource::MbTiles);
    QTest::newRow("https template")
        << "https://tiles.example/{z}/{x}/{y}.png" << true << int(TileSource::Http);
    QTest::newRow("http template with subdomain")
        << "http://{s}.tiles.example/{z}/{x}/{y}.png" << true << int(TileSource::Http);
    QTest::newRow("template without y") << "https://tiles.example/{z}/{x}.png" << false << 0;
    QTest::newRow("ftp template") << "ftp://tiles.example/{z}/{x}/{y}.png" << false << 0;
    QTest::newRow("plain file") << "/tmp/tiles.png" << false << 0;
}

void tst_TileSources::createFromSpec()
{
    QFETCH(QString, spec);
    QFETCH(bool, created);
    QFETCH(int, kind);

    QString errorString;
    if (spec.endsWith(QLatin1String(".mbtiles"), Qt::CaseInsensitive)) {
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("not found")));
    }
    std::unique_ptr<TileSource> source(createTileSource({spec, QString(), 0}, &errorString));
    QCOMPARE(bool(source), created);
    if (created) {
        QCOMPARE(int(source->kind()), kind);
        QVERIFY(errorString.isEmpty());
    } else {
        QVERIFY2(errorString.contains(spec), qPrintable(errorString));
        QVERIFY2(errorString.contains(QLatin1String("{z}")), qPrintable(errorString));
    }
}

void tst_TileSources::openStreetMapDefaults()
{
    QString errorString;
    std::unique_ptr<TileSource> source(
        createTileSource({openStreetMapTemplate, QString(), 0}, &errorString));
    QVERIFY(source);
    QCOMPARE(source->kind(), TileSource::Http);
    QCOMPARE(source->attribution(), QStringLiteral("© OpenStreetMap contributors"));
    QCOMPARE(source->maximumZoom(), 19);
    const QByteArray userAgent = HttpTileSource::userAgent();
    QVERIFY2(userAgent.startsWith("omw-console/" OMW_TEST_VERSION), userAgent.constData());
}

void tst_TileSources::urlTemplatePlaceholders()
{
    HttpTileSource source(QStringLiteral("https://{s}.tiles.example/{z}/{x}/{y}.png"), QString(),
                          0);
    // {s} rotates through a, b and c by (x + y) % 3.
    QCOMPARE(source.urlFor({5, 16, 11}),
             QUrl(QStringLiteral("https://a.tiles.example/5/16/11.png")));
    QCOMPARE(source.urlFor({5, 17, 11}),
             QUrl(QStringLiteral("https://b.tiles.example/5/17/11.png")));
    QCOMPARE(source.urlFor({5, 18, 11}),
             QUrl(QStringLiteral("https://c.tiles.example/5/18/11.png")));
    QCOMPARE(source.attribution(), QStringLiteral("{s}.tiles.example"));
}

void tst_TileSources::httpTileFromLoopback()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    QTemporaryDir cache;
    HttpTileSource source(server.urlTemplate(), cache.path(), 1024 * 1024);
    QSignalSpy ready(&source, &TileSource::tileReady);
    QSignalSpy failed(&source, &TileSource::tileFailed);

    source.requestTile({3, 4, 2});
    QVERIFY(ready.wait());
    QCOMPARE(ready.count(), 1);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(ready.at(0).at(0).value<TileId>(), (TileId {3, 4, 2}));
    const QImage image = ready.at(0).at(1).value<QImage>();
    QCOMPARE(image.size(), QSize(256, 256));
    QCOMPARE(image.pixelColor(128, 128), LoopbackTileServer::tileColor(3, 4, 2));
    QCOMPARE(server.requests().size(), 1);
    QCOMPARE(server.requests().at(0).path, QByteArray("/3/4/2.png"));
    QCOMPARE(server.requests().at(0).userAgent, HttpTileSource::userAgent());
    QCOMPARE(source.requestCount(), 1);
    QCOMPARE(source.error(), TileSource::NoError);
}

void tst_TileSources::httpErrorStatus()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    HttpTileSource source(
        QStringLiteral("http://127.0.0.1:%1/missing/{z}/{x}/{y}.png").arg(server.serverPort()),
        QString(), 0);
    QSignalSpy failed(&source, &TileSource::tileFailed);
    QSignalSpy errors(&source, &TileSource::errorOccurred);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("HTTP 404")));
    source.requestTile({1, 0, 1});
    QVERIFY(failed.wait());
    QCOMPARE(failed.count(), 1);
    QCOMPARE(errors.count(), 1);
    QCOMPARE(source.error(), TileSource::ServerError);
    QVERIFY2(source.errorString().contains(QLatin1String("/missing/1/0/1.png")),
             qPrintable(source.errorString()));
}

void tst_TileSources::httpNotAnImage()
{
    // A server that replies 200 with a text body: the tile fails with DecodeError.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    connect(&server, &QTcpServer::newConnection, this, [&server] {
        QTcpSocket *socket = server.nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [socket] {
            socket->readAll();
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        });
    });
    HttpTileSource source(
        QStringLiteral("http://127.0.0.1:%1/{z}/{x}/{y}.png").arg(server.serverPort()), QString(),
        0);
    QSignalSpy failed(&source, &TileSource::tileFailed);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("is not an image")));
    source.requestTile({0, 0, 0});
    QVERIFY(failed.wait());
    QCOMPARE(source.error(), TileSource::DecodeError);
}

void tst_TileSources::diskCacheOnSecondStart()
{
    LoopbackTileServer server;
    QVERIFY(server.start());
    QTemporaryDir cache;
    const QList<TileId> tiles {{2, 1, 1}, {2, 2, 1}, {5, 17, 11}};
    {
        HttpTileSource first(server.urlTemplate(), cache.path(), 1024 * 1024);
        QSignalSpy ready(&first, &TileSource::tileReady);
        for (const TileId &tile : tiles) {
            first.requestTile(tile);
        }
        QTRY_COMPARE(ready.count(), 3);
        QCOMPARE(first.requestCount(), 3);
    }
    QCOMPARE(server.requests().size(), 3);

    // A new source over the same folder, as after a restart, serves all three from disk.
    HttpTileSource second(server.urlTemplate(), cache.path(), 1024 * 1024);
    QSignalSpy ready(&second, &TileSource::tileReady);
    for (const TileId &tile : tiles) {
        second.requestTile(tile);
    }
    QCOMPARE(ready.count(), 3);
    QCOMPARE(ready.at(2).at(0).value<TileId>(), (TileId {5, 17, 11}));
    QCOMPARE(ready.at(2).at(1).value<QImage>().pixelColor(10, 10),
             LoopbackTileServer::tileColor(5, 17, 11));
    QCOMPARE(second.requestCount(), 0);
    QCOMPARE(server.requests().size(), 3);

    // Another URL template gets a cache of its own.
    HttpTileSource other(server.urlTemplate() + QStringLiteral("?style=dark"), cache.path(),
                         1024 * 1024);
    QVERIFY(other.cacheDirectory() != second.cacheDirectory());
}

void tst_TileSources::noTilesSource()
{
    NoTileSource source;
    QSignalSpy ready(&source, &TileSource::tileReady);
    QSignalSpy failed(&source, &TileSource::tileFailed);
    source.requestTile({0, 0, 0});
    QCoreApplication::processEvents();
    QCOMPARE(ready.count(), 0);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(source.kind(), TileSource::None);
    QVERIFY(source.attribution().isEmpty());
}

QString tst_TileSources::writeMbtiles(const QString &name, const QList<TileId> &tiles)
{
    const QString path = m_dir.filePath(name);
    {
        QSqlDatabase database = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        database.setDatabaseName(path);
        if (!database.open()) {
            qWarning() << database.lastError().text();
            return QString();
        }
        QSqlQuery query(database);
        query.exec(QStringLiteral("CREATE TABLE metadata (name TEXT, value TEXT)"));
        query.exec(QStringLiteral("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                                  "tile_row INTEGER, tile_data BLOB)"));
        query.exec(
            QStringLiteral("INSERT INTO metadata VALUES ('name', 'test'), ('format', 'png'), "
                           "('minzoom', '1'), ('maxzoom', '6'), "
                           "('attribution', 'Test tiles')"));
        for (const TileId &tile : tiles) {
            query.prepare(QStringLiteral("INSERT INTO tiles VALUES (?, ?, ?, ?)"));
            query.addBindValue(tile.z);
            query.addBindValue(tile.x);
            query.addBindValue((1 << tile.z) - 1 - tile.y);
            query.addBindValue(LoopbackTileServer::tilePng(tile.z, tile.x, tile.y));
            if (!query.exec()) {
                qWarning() << query.lastError().text();
            }
        }
        database.close();
    }
    QSqlDatabase::removeDatabase(name);
    return path;
}

void tst_TileSources::mbtilesTile()
{
    const QString path = writeMbtiles(QStringLiteral("tile.mbtiles"), {{3, 4, 2}, {3, 4, 5}});
    QVERIFY(!path.isEmpty());
    MbTilesSource source(path);
    QVERIFY(source.isOpen());
    QSignalSpy ready(&source, &TileSource::tileReady);
    source.requestTile({3, 4, 2});
    QCOMPARE(ready.count(), 0); // delivered from the event loop, never synchronously
    QVERIFY(ready.wait());
    QCOMPARE(ready.at(0).at(0).value<TileId>(), (TileId {3, 4, 2}));
    // Row 2 in XYZ order is row 5 in the file's TMS order, and the two tiles differ.
    QCOMPARE(ready.at(0).at(1).value<QImage>().pixelColor(0, 0),
             LoopbackTileServer::tileColor(3, 4, 2));
    source.requestTile({3, 4, 5});
    QVERIFY(ready.wait());
    QCOMPARE(ready.at(1).at(1).value<QImage>().pixelColor(0, 0),
             LoopbackTileServer::tileColor(3, 4, 5));
}

void tst_TileSources::mbtilesMissingTile()
{
    const QString path = writeMbtiles(QStringLiteral("missing.mbtiles"), {{3, 4, 2}});
    MbTilesSource source(path);
    QSignalSpy failed(&source, &TileSource::tileFailed);
    source.requestTile({3, 4, 3});
    QVERIFY(failed.wait());
    QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("tile not in the file"));
    QCOMPARE(source.error(), TileSource::NoError);
}

void tst_TileSources::mbtilesMetadata()
{
    const QString path = writeMbtiles(QStringLiteral("metadata.mbtiles"), {});
    MbTilesSource source(path);
    QCOMPARE(source.attribution(), QStringLiteral("Test tiles"));
    QCOMPARE(source.minimumZoom(), 1);
    QCOMPARE(source.maximumZoom(), 6);
}

void tst_TileSources::mbtilesNotFound()
{
    const QString path = m_dir.filePath(QStringLiteral("absent.mbtiles"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("not found")));
    MbTilesSource source(path);
    QVERIFY(!source.isOpen());
    QCOMPARE(source.error(), TileSource::OpenError);
    QVERIFY2(source.errorString().contains(path), qPrintable(source.errorString()));
    QSignalSpy failed(&source, &TileSource::tileFailed);
    source.requestTile({0, 0, 0});
    QVERIFY(failed.wait());
}

void tst_TileSources::mbtilesNotAnMbtilesFile()
{
    const QString path = m_dir.filePath(QStringLiteral("plain.mbtiles"));
    {
        QSqlDatabase database = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), path);
        database.setDatabaseName(path);
        QVERIFY(database.open());
        QSqlQuery(database).exec(QStringLiteral("CREATE TABLE other (a INTEGER)"));
        database.close();
    }
    QSqlDatabase::removeDatabase(path);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("no table \"tiles\"")));
    MbTilesSource source(path);
    QCOMPARE(source.error(), TileSource::OpenError);
    QVERIFY(!source.isOpen());
}

QTEST_GUILESS_MAIN(tst_TileSources)
#include "tst_tilesources.moc"
