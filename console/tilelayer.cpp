#include "tilelayer.h"

#include "tilesource.h"

#include <QPainter>
#include <QTimer>

#include <cmath>

namespace Omw {

namespace {

constexpr int imageCacheKiB = 128 * 1024;
constexpr int maxFallbackLevels = 5;

} // namespace

TileLayer::TileLayer(QQuickItem *parent) : QQuickPaintedItem(parent)
{
    m_images.setMaxCost(imageCacheKiB);
    setOpaquePainting(true);
    setAntialiasing(true);
}

void TileLayer::setSource(TileSource *source)
{
    if (m_source == source) {
        return;
    }
    if (m_source) {
        disconnect(m_source, nullptr, this, nullptr);
    }
    m_source = source;
    m_images.clear();
    m_pending.clear();
    m_failed.clear();
    if (m_source) {
        connect(m_source, &TileSource::tileReady, this, &TileLayer::handleTileReady);
        connect(m_source, &TileSource::tileFailed, this,
                [this](const MapMath::TileId &tile) { handleTileFailed(tile); });
        connect(m_source, &TileSource::zoomRangeChanged, this, &TileLayer::scheduleRequests);
    }
    Q_EMIT sourceChanged();
    scheduleRequests();
    update();
}

void TileLayer::setCenter(const QGeoCoordinate &center)
{
    if (!center.isValid() || center == m_center) {
        return;
    }
    m_center = QGeoCoordinate(MapMath::clampLatitude(center.latitude()),
                              MapMath::wrapLongitude(center.longitude()));
    Q_EMIT centerChanged();
    scheduleRequests();
    update();
}

void TileLayer::setZoom(double zoom)
{
    zoom = MapMath::clampZoom(zoom);
    if (qFuzzyCompare(zoom, m_zoom)) {
        return;
    }
    m_zoom = zoom;
    Q_EMIT zoomChanged();
    if (tileLevel() != m_lastLevel) {
        m_lastLevel = tileLevel();
        Q_EMIT tileLevelChanged();
    }
    scheduleRequests();
    update();
}

void TileLayer::setGraticule(bool graticule)
{
    if (m_graticule != graticule) {
        m_graticule = graticule;
        Q_EMIT graticuleChanged();
        update();
    }
}

void TileLayer::setBackgroundColor(const QColor &color)
{
    if (m_backgroundColor != color) {
        m_backgroundColor = color;
        Q_EMIT backgroundColorChanged();
        update();
    }
}

int TileLayer::tileLevel() const
{
    int level = int(std::lround(m_zoom));
    if (m_source) {
        level = std::clamp(level, m_source->minimumZoom(), m_source->maximumZoom());
    }
    return std::clamp(level, MapMath::minZoom, MapMath::maxZoom);
}

bool TileLayer::hasTiles() const
{
    return m_source && m_source->kind() != TileSource::None;
}

void TileLayer::geometryChange(const QRectF &newGeometry, const QRectF &oldGeometry)
{
    QQuickPaintedItem::geometryChange(newGeometry, oldGeometry);
    if (newGeometry.size() != oldGeometry.size()) {
        scheduleRequests();
    }
}

void TileLayer::scheduleRequests()
{
    if (m_requestsScheduled) {
        return;
    }
    m_requestsScheduled = true;
    // Coalesces the many property changes of a drag or pinch into one pass per event loop turn.
    QTimer::singleShot(0, this, [this] {
        m_requestsScheduled = false;
        if (!hasTiles()) {
            setComplete(width() > 0 && height() > 0);
            return;
        }
        const int level = tileLevel();
        const QVector<MapMath::TileId> visible
            = MapMath::tilesCovering(m_center, m_zoom, size(), level);
        QVector<MapMath::TileId> wanted;
        bool complete = true;
        for (const MapMath::TileId &unwrapped : visible) {
            const MapMath::TileId tile {level, MapMath::wrapTileX(unwrapped.x, level), unwrapped.y};
            if (m_images.contains(tile) || m_failed.contains(tile) || wanted.contains(tile)) {
                continue;
            }
            complete = false;
            wanted.append(tile);
        }
        m_source->retainOnly(wanted);
        for (const MapMath::TileId &tile : std::as_const(wanted)) {
            if (!m_pending.contains(tile)) {
                m_pending.insert(tile);
                m_source->requestTile(tile);
            }
        }
        setComplete(complete && !visible.isEmpty());
    });
}

void TileLayer::handleTileReady(const MapMath::TileId &tile, const QImage &image)
{
    m_pending.remove(tile);
    m_failed.remove(tile);
    const int cost = std::max(1, int(image.sizeInBytes() / 1024));
    m_images.insert(tile, new QImage(image), cost);
    update();
    scheduleRequests();
}

void TileLayer::handleTileFailed(const MapMath::TileId &tile)
{
    m_pending.remove(tile);
    m_failed.insert(tile);
    update();
    scheduleRequests();
}

void TileLayer::setComplete(bool complete)
{
    if (m_complete != complete) {
        m_complete = complete;
        Q_EMIT completeChanged();
    }
}

void TileLayer::paint(QPainter *painter)
{
    painter->fillRect(QRectF(0, 0, width(), height()), m_backgroundColor);
    if (!m_center.isValid()) {
        return;
    }
    if (hasTiles()) {
        painter->setRenderHint(QPainter::SmoothPixmapTransform, true);
        const int level = tileLevel();
        const double scale = std::exp2(m_zoom - level);
        const double tileOnScreen = MapMath::tileSize * scale;
        const QPointF centre = MapMath::project(m_center, level) * scale;
        const QPointF origin(width() / 2.0 - centre.x(), height() / 2.0 - centre.y());
        for (const MapMath::TileId &unwrapped :
             MapMath::tilesCovering(m_center, m_zoom, size(), level)) {
            // Round the edges to whole pixels, so that neighbouring tiles leave no seams.
            const double left = std::floor(origin.x() + unwrapped.x * tileOnScreen);
            const double top = std::floor(origin.y() + unwrapped.y * tileOnScreen);
            const double right = std::floor(origin.x() + (unwrapped.x + 1) * tileOnScreen);
            const double bottom = std::floor(origin.y() + (unwrapped.y + 1) * tileOnScreen);
            const QRectF target(left, top, right - left, bottom - top);
            const MapMath::TileId tile {level, MapMath::wrapTileX(unwrapped.x, level), unwrapped.y};
            if (const QImage *image = m_images.object(tile)) {
                painter->drawImage(target, *image);
            } else {
                drawFallback(painter, tile, target);
            }
        }
    }
    if (!hasTiles() || m_graticule) {
        drawGraticule(painter);
    }
}

bool TileLayer::drawFallback(QPainter *painter, const MapMath::TileId &tile, const QRectF &target)
{
    // An ancestor, cropped to the part this tile covers.
    MapMath::TileId ancestor = tile;
    for (int up = 1; up <= maxFallbackLevels && ancestor.z > 0; ++up) {
        ancestor = ancestor.parent();
        if (const QImage *image = m_images.object(ancestor)) {
            const int parts = 1 << up;
            const double side = double(image->width()) / parts;
            const QRectF sourceRect((tile.x - (ancestor.x << up)) * side,
                                    (tile.y - (ancestor.y << up)) * side, side, side);
            painter->drawImage(target, *image, sourceRect);
            return true;
        }
    }
    // The four children, which are cached after zooming out.
    if (tile.z < MapMath::maxZoom) {
        const QImage *children[4] = {};
        for (int i = 0; i < 4; ++i) {
            children[i] = m_images.object({tile.z + 1, tile.x * 2 + i % 2, tile.y * 2 + i / 2});
            if (!children[i]) {
                return false;
            }
        }
        const double half = target.width() / 2;
        for (int i = 0; i < 4; ++i) {
            painter->drawImage(
                QRectF(target.x() + (i % 2) * half, target.y() + (i / 2) * half, half, half),
                *children[i]);
        }
        return true;
    }
    return false;
}

double TileLayer::graticuleStep(double zoom)
{
    static const double steps[]
        = {30, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005};
    // The smallest step whose lines are at least 80 px apart at the equator.
    const double degreesPerPixel = 360.0 / MapMath::worldSize(zoom);
    double chosen = steps[0];
    for (const double step : steps) {
        if (step / degreesPerPixel < 80) {
            break;
        }
        chosen = step;
    }
    return chosen;
}

void TileLayer::drawGraticule(QPainter *painter)
{
    const double step = graticuleStep(m_zoom);
    const QSizeF viewSize = size();
    const QGeoCoordinate topLeft = MapMath::fromView({0, 0}, m_center, m_zoom, viewSize);
    const QGeoCoordinate bottomRight
        = MapMath::fromView({width(), height()}, m_center, m_zoom, viewSize);
    const double westEdge = MapMath::project(m_center, m_zoom).x() - width() / 2.0;
    const double degreesPerPixel = 360.0 / MapMath::worldSize(m_zoom);
    const double west = westEdge * degreesPerPixel - 180.0; // unwrapped
    const double east = west + width() * degreesPerPixel;

    QPen minor(QColor(0x9a, 0xa4, 0xae, 140), 1);
    QPen major(QColor(0x7a, 0x86, 0x92, 200), 1.5);
    QFont font = painter->font();
    font.setPixelSize(11);
    painter->setFont(font);
    const QColor labelColor(0x5a, 0x66, 0x72);
    const int decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step)));

    for (double longitude = std::ceil(west / step) * step; longitude <= east; longitude += step) {
        const double x = (longitude - west) / degreesPerPixel;
        const double wrapped = MapMath::wrapLongitude(longitude);
        const bool isMajor = std::fabs(std::remainder(wrapped, step * 5)) < step / 1000;
        painter->setPen(isMajor ? major : minor);
        painter->drawLine(QPointF(x, 0), QPointF(x, height()));
        painter->setPen(labelColor);
        const QString label
            = QStringLiteral("%1°%2")
                  .arg(std::fabs(wrapped), 0, 'f', decimals)
                  .arg(wrapped < 0 ? QLatin1Char('W') : (wrapped > 0 ? QLatin1Char('E') : QChar()));
        painter->drawText(QPointF(x + 4, 14), label);
    }
    const double north = topLeft.latitude();
    const double south = bottomRight.latitude();
    for (double latitude = std::ceil(south / step) * step; latitude <= north; latitude += step) {
        const double y = MapMath::toView(QGeoCoordinate(latitude, m_center.longitude()), m_center,
                                         m_zoom, viewSize)
                             .y();
        const bool isMajor = std::fabs(std::remainder(latitude, step * 5)) < step / 1000;
        painter->setPen(isMajor ? major : minor);
        painter->drawLine(QPointF(0, y), QPointF(width(), y));
        painter->setPen(labelColor);
        const QString label = QStringLiteral("%1°%2")
                                  .arg(std::fabs(latitude), 0, 'f', decimals)
                                  .arg(latitude < 0 ? QLatin1Char('S')
                                                    : (latitude > 0 ? QLatin1Char('N') : QChar()));
        painter->drawText(QPointF(4, y - 4), label);
    }
}

} // namespace Omw
