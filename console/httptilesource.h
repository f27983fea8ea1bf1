#pragma once

#include "tilecache.h"
#include "tilesource.h"

#include <QHash>
#include <QNetworkAccessManager>
#include <QVector>

#include <memory>

namespace Omw {

// Tiles from an HTTP(S) server addressed by a URL template such as
// `https://tile.openstreetmap.org/{z}/{x}/{y}.png` ({s} becomes a, b or c). Tiles are kept in a
// disk cache; a cached tile is shown at once and fetched again in the background once it is
// older than maximumAge. At most maxConnections requests run at a time, newest first.
class HttpTileSource : public TileSource
{
    Q_OBJECT
public:
    // Tile servers such as OpenStreetMap's ask clients to keep tiles for at least seven days.
    static constexpr qint64 maximumAge = 7 * 24 * 3600; // seconds
    static constexpr int maxConnections = 2;
    static constexpr int maxQueued = 512;

    HttpTileSource(const QString &urlTemplate, const QString &cacheDirectory, qint64 cacheSizeLimit,
                   QObject *parent = nullptr);

    Kind kind() const override { return Http; }
    QString urlTemplate() const { return m_urlTemplate; }
    QUrl urlFor(const MapMath::TileId &tile) const;
    // The folder this source's cache uses: one subfolder of the cache root per URL template.
    QString cacheDirectory() const;
    // The User-Agent sent with every request: application name, version and home page.
    static QByteArray userAgent();
    // Number of HTTP requests sent so far; tests use it to see that the cache was used.
    int requestCount() const { return m_requestCount; }

    void requestTile(const MapMath::TileId &tile) override;
    void retainOnly(const QVector<MapMath::TileId> &wanted) override;

private:
    void startQueued();
    void fetch(const MapMath::TileId &tile);
    void handleReply(QNetworkReply *reply, const MapMath::TileId &tile);

    QString m_urlTemplate;
    QNetworkAccessManager m_network;
    std::unique_ptr<TileCache> m_cache;
    QVector<MapMath::TileId> m_queue; // newest at the back
    QHash<MapMath::TileId, QNetworkReply *> m_running;
    int m_requestCount = 0;
    int m_failuresLogged = 0;
};

} // namespace Omw
