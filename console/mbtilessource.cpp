#include "mbtilessource.h"

#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

namespace Omw {

MbTilesSource::MbTilesSource(const QString &path, QObject *parent)
    : TileSource(parent), m_path(path)
{
    static int connectionCounter = 0;
    m_connectionName = QStringLiteral("omw-mbtiles-%1").arg(++connectionCounter);
    open();
}

MbTilesSource::~MbTilesSource()
{
    {
        QSqlDatabase database = QSqlDatabase::database(m_connectionName, false);
        database.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

bool MbTilesSource::isOpen() const
{
    return QSqlDatabase::database(m_connectionName, false).isOpen();
}

void MbTilesSource::open()
{
    if (!QFileInfo::exists(m_path)) {
        const QString message
            = QStringLiteral("MBTiles file %1 not found; pass an existing file to --tiles")
                  .arg(m_path);
        qCWarning(lcTiles).noquote() << message;
        setError(OpenError, message);
        return;
    }
    QSqlDatabase database = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    database.setDatabaseName(m_path);
    database.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
    if (!database.open()) {
        const QString message = QStringLiteral("cannot open MBTiles file %1: %2")
                                    .arg(m_path, database.lastError().text());
        qCWarning(lcTiles).noquote() << message;
        setError(OpenError, message);
        return;
    }
    if (!database.tables().contains(QStringLiteral("tiles"))) {
        const QString message
            = QStringLiteral("%1 is not an MBTiles file: it has no table \"tiles\"").arg(m_path);
        qCWarning(lcTiles).noquote() << message;
        setError(OpenError, message);
        database.close();
        return;
    }
    readMetadata();
    qCInfo(lcTiles) << "MBTiles from" << m_path << "zoom" << minimumZoom() << "to" << maximumZoom();
}

void MbTilesSource::readMetadata()
{
    QSqlDatabase database = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(database);
    if (!query.exec(QStringLiteral("SELECT name, value FROM metadata"))) {
        return; // metadata is optional in practice
    }
    int minimum = MapMath::minZoom;
    int maximum = MapMath::maxZoom;
    while (query.next()) {
        const QString name = query.value(0).toString();
        const QString value = query.value(1).toString();
        if (name == QLatin1String("attribution")) {
            setAttribution(value);
        } else if (name == QLatin1String("minzoom")) {
            minimum = value.toInt();
        } else if (name == QLatin1String("maxzoom")) {
            maximum = value.toInt();
        }
    }
    setZoomRange(minimum, maximum);
}

void MbTilesSource::requestTile(const MapMath::TileId &tile)
{
    QTimer::singleShot(0, this, [this, tile] { load(tile); });
}

void MbTilesSource::load(const MapMath::TileId &tile)
{
    if (!isOpen()) {
        Q_EMIT tileFailed(tile, errorString());
        return;
    }
    if (!tile.isValid()) {
        Q_EMIT tileFailed(tile, QStringLiteral("tile outside the map"));
        return;
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.prepare(QStringLiteral("SELECT tile_data FROM tiles WHERE zoom_level = ? AND "
                                 "tile_column = ? AND tile_row = ?"));
    query.addBindValue(tile.z);
    query.addBindValue(tile.x);
    query.addBindValue((1 << tile.z) - 1 - tile.y); // TMS rows count from the south
    if (!query.exec()) {
        const QString reason = query.lastError().text();
        qCWarning(lcTiles).noquote() << "MBTiles query failed in" << m_path << reason;
        Q_EMIT tileFailed(tile, reason);
        return;
    }
    if (!query.next()) {
        Q_EMIT tileFailed(tile, QStringLiteral("tile not in the file"));
        return;
    }
    const QImage image = QImage::fromData(query.value(0).toByteArray());
    if (image.isNull()) {
        const QString reason = QStringLiteral("tile %1/%2/%3 in %4 is not an image")
                                   .arg(tile.z)
                                   .arg(tile.x)
                                   .arg(tile.y)
                                   .arg(m_path);
        setError(DecodeError, reason);
        Q_EMIT tileFailed(tile, reason);
        return;
    }
    Q_EMIT tileReady(tile, image);
}

} // namespace Omw
