#include "tilesource.h"

#include "httptilesource.h"
#include "mbtilessource.h"

#include <QUrl>

Q_LOGGING_CATEGORY(lcTiles, "omw.console.tiles")

namespace Omw {

void TileSource::setAttribution(const QString &attribution)
{
    if (m_attribution != attribution) {
        m_attribution = attribution;
        Q_EMIT attributionChanged();
    }
}

void TileSource::setZoomRange(int minimum, int maximum)
{
    minimum = std::clamp(minimum, MapMath::minZoom, MapMath::maxZoom);
    maximum = std::clamp(maximum, minimum, MapMath::maxZoom);
    if (minimum != m_minimumZoom || maximum != m_maximumZoom) {
        m_minimumZoom = minimum;
        m_maximumZoom = maximum;
        Q_EMIT zoomRangeChanged();
    }
}

void TileSource::setError(Error error, const QString &errorString)
{
    m_error = error;
    m_errorString = errorString;
    Q_EMIT errorOccurred(error);
}

void NoTileSource::requestTile(const MapMath::TileId &tile)
{
    Q_UNUSED(tile)
}

TileSource *createTileSource(const TileSourceOptions &options, QString *errorString,
                             QObject *parent)
{
    const QString spec = options.spec.trimmed();
    if (spec.isEmpty() || spec == QLatin1String("none")) {
        return new NoTileSource(parent);
    }
    if (spec.endsWith(QLatin1String(".mbtiles"), Qt::CaseInsensitive)) {
        return new MbTilesSource(spec, parent);
    }
    const QUrl url(spec);
    const bool http
        = url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https");
    if (!http || !spec.contains(QLatin1String("{z}")) || !spec.contains(QLatin1String("{x}"))
        || !spec.contains(QLatin1String("{y}"))) {
        if (errorString) {
            *errorString
                = QStringLiteral("invalid tile source \"%1\": expected \"none\", a path ending in "
                                 ".mbtiles, or an http(s) URL template containing {z}, {x} and {y}")
                      .arg(spec);
        }
        return nullptr;
    }
    return new HttpTileSource(spec, options.cacheDirectory, options.cacheSizeLimit, parent);
}

} // namespace Omw
