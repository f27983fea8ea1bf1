#include "httptilesource.h"

#include <QCryptographicHash>
#include <QDir>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace Omw {

namespace {

// Repeated network failures are logged this many times, then counted silently.
constexpr int maxLoggedFailures = 20;

} // namespace

HttpTileSource::HttpTileSource(const QString &urlTemplate, const QString &cacheDirectory,
                               qint64 cacheSizeLimit, QObject *parent)
    : TileSource(parent), m_urlTemplate(urlTemplate)
{
    if (urlTemplate == openStreetMapTemplate) {
        setAttribution(openStreetMapAttribution);
    } else {
        // Other servers have no known attribution text, so the map credits their host name.
        // QUrl rejects placeholders such as {s} in a host, so the host is cut out as text.
        const int hostStart = urlTemplate.indexOf(QLatin1String("://")) + 3;
        const int hostEnd = urlTemplate.indexOf(QLatin1Char('/'), hostStart);
        setAttribution(urlTemplate.mid(hostStart, hostEnd < 0 ? -1 : hostEnd - hostStart));
    }
    if (!cacheDirectory.isEmpty()) {
        const QByteArray key
            = QCryptographicHash::hash(urlTemplate.toUtf8(), QCryptographicHash::Sha1).toHex();
        m_cache = std::make_unique<TileCache>(
            cacheDirectory + QLatin1Char('/') + QString::fromLatin1(key.left(16)), cacheSizeLimit);
    }
    m_network.setAutoDeleteReplies(true);
    qCInfo(lcTiles) << "HTTP tiles from" << urlTemplate << "cache"
                    << (m_cache ? m_cache->directory() : QStringLiteral("disabled"));
}

QString HttpTileSource::cacheDirectory() const
{
    return m_cache ? m_cache->directory() : QString();
}

QByteArray HttpTileSource::userAgent()
{
    // The version, and the deployment's page when the build names one (OMW_HOMEPAGE_URL).
    const QByteArray homepage(OMW_HOMEPAGE);
    return QByteArrayLiteral("omw-console/" OMW_VERSION)
        + (homepage.isEmpty() ? QByteArray() : " (+" + homepage + ')');
}

QUrl HttpTileSource::urlFor(const MapMath::TileId &tile) const
{
    static const char subdomains[] = {'a', 'b', 'c'};
    QString url = m_urlTemplate;
    url.replace(QLatin1String("{z}"), QString::number(tile.z));
    url.replace(QLatin1String("{x}"), QString::number(tile.x));
    url.replace(QLatin1String("{y}"), QString::number(tile.y));
    url.replace(QLatin1String("{s}"), QChar::fromLatin1(subdomains[(tile.x + tile.y) % 3]));
    return QUrl(url);
}

void HttpTileSource::requestTile(const MapMath::TileId &tile)
{
    if (!tile.isValid()) {
        Q_EMIT tileFailed(tile, QStringLiteral("tile outside the map"));
        return;
    }
    if (m_cache) {
        QDateTime storedAt;
        if (const auto data = m_cache->read(tile, &storedAt)) {
            const QImage image = QImage::fromData(*data);
            if (!image.isNull()) {
                Q_EMIT tileReady(tile, image);
                if (storedAt.secsTo(QDateTime::currentDateTimeUtc()) < maximumAge) {
                    return;
                }
            }
        }
    }
    if (m_running.contains(tile)) {
        return;
    }
    m_queue.removeAll(tile);
    m_queue.append(tile);
    if (m_queue.size() > maxQueued) {
        m_queue.remove(0, m_queue.size() - maxQueued);
    }
    startQueued();
}

void HttpTileSource::retainOnly(const QVector<MapMath::TileId> &wanted)
{
    m_queue.erase(
        std::remove_if(m_queue.begin(), m_queue.end(),
                       [&wanted](const MapMath::TileId &tile) { return !wanted.contains(tile); }),
        m_queue.end());
}

void HttpTileSource::startQueued()
{
    while (m_running.size() < maxConnections && !m_queue.isEmpty()) {
        fetch(m_queue.takeLast());
    }
}

void HttpTileSource::fetch(const MapMath::TileId &tile)
{
    QNetworkRequest request(urlFor(tile));
    request.setHeader(QNetworkRequest::UserAgentHeader, userAgent());
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setTransferTimeout(15000);
    QNetworkReply *reply = m_network.get(request);
    ++m_requestCount;
    m_running.insert(tile, reply);
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, tile] { handleReply(reply, tile); });
}

void HttpTileSource::handleReply(QNetworkReply *reply, const MapMath::TileId &tile)
{
    m_running.remove(tile);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError || status != 200) {
        const bool serverError = status >= 400;
        const QString reason = serverError
            ? QStringLiteral("HTTP %1 for %2").arg(status).arg(reply->url().toDisplayString())
            : QStringLiteral("%1: %2").arg(reply->url().toDisplayString(), reply->errorString());
        if (m_failuresLogged < maxLoggedFailures) {
            ++m_failuresLogged;
            qCWarning(lcTiles).noquote() << "tile request failed:" << reason;
        }
        setError(serverError ? ServerError : NetworkError, reason);
        Q_EMIT tileFailed(tile, reason);
        startQueued();
        return;
    }
    const QByteArray data = reply->readAll();
    const QImage image = QImage::fromData(data);
    if (image.isNull()) {
        const QString reason
            = QStringLiteral("%1 is not an image").arg(reply->url().toDisplayString());
        qCWarning(lcTiles).noquote() << reason;
        setError(DecodeError, reason);
        Q_EMIT tileFailed(tile, reason);
    } else {
        if (m_cache) {
            m_cache->write(tile, data);
        }
        Q_EMIT tileReady(tile, image);
    }
    startQueued();
}

} // namespace Omw
