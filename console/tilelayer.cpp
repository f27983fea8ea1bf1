#include "tilelayer.h"

#include "tilesource.h"

#include <QDateTime>
#include <QPainter>
#include <QPainterPath>
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
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &TileLayer::retryFailedTiles);
}

void TileLayer::setRetryInterval(int milliseconds)
{
    milliseconds = std::max(1, milliseconds);
    if (m_retryInterval != milliseconds) {
        m_retryInterval = milliseconds;
        Q_EMIT retryIntervalChanged();
    }
}

void TileLayer::retryFailedTiles()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    qint64 next = 0;
    for (auto it = m_failed.begin(); it != m_failed.end();) {
        if (it.value() <= now) {
            it = m_failed.erase(it);
        } else {
            next = next == 0 ? it.value() : std::min(next, it.value());
            ++it;
        }
    }
    if (next > 0) {
        m_retryTimer.start(int(next - now));
    }
    scheduleRequests();
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

QVector<MapMath::TileId> TileLayer::missingTiles() const
{
    QVector<MapMath::TileId> missing;
    const int level = tileLevel();
    for (const MapMath::TileId &unwrapped :
         MapMath::tilesCovering(m_center, m_zoom, size(), level)) {
        const MapMath::TileId tile {level, MapMath::wrapTileX(unwrapped.x, level), unwrapped.y};
        if (!m_images.contains(tile) && !m_failed.contains(tile) && !missing.contains(tile)) {
            missing.append(tile);
        }
    }
    return missing;
}

void TileLayer::scheduleRequests()
{
    // Completeness is known at once; the requests wait for the event loop.
    if (!hasTiles()) {
        setComplete(width() > 0 && height() > 0);
    } else {
        setComplete(width() > 0 && height() > 0 && missingTiles().isEmpty());
    }
    if (m_requestsScheduled || !hasTiles()) {
        return;
    }
    m_requestsScheduled = true;
    // Coalesces the many property changes of a drag or pinch into one pass per event loop turn.
    QTimer::singleShot(0, this, [this] {
        m_requestsScheduled = false;
        if (!hasTiles()) {
            return;
        }
        const QVector<MapMath::TileId> wanted = missingTiles();
        m_source->retainOnly(wanted);
        for (const MapMath::TileId &tile : wanted) {
            if (!m_pending.contains(tile)) {
                m_pending.insert(tile);
                m_source->requestTile(tile);
            }
        }
        setComplete(width() > 0 && height() > 0 && missingTiles().isEmpty());
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
    m_failed.insert(tile, QDateTime::currentMSecsSinceEpoch() + m_retryInterval);
    if (!m_retryTimer.isActive()) {
        m_retryTimer.start(m_retryInterval);
    }
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
    // Those of the four children that are cached, as after zooming out.
    bool drawn = false;
    if (tile.z < MapMath::maxZoom) {
        const double half = target.width() / 2;
        for (int i = 0; i < 4; ++i) {
            const QImage *child
                = m_images.object({tile.z + 1, tile.x * 2 + i % 2, tile.y * 2 + i / 2});
            if (child) {
                painter->drawImage(
                    QRectF(target.x() + (i % 2) * half, target.y() + (i / 2) * half, half, half),
                    *child);
                drawn = true;
            }
        }
    }
    return drawn;
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

namespace {

QString formatDegrees(double value, int decimals, QChar positive, QChar negative)
{
    const QChar hemisphere = value > 0 ? positive : (value < 0 ? negative : QChar());
    QString text = QString::number(std::fabs(value), 'f', decimals) + QChar(0x00b0);
    if (!hemisphere.isNull()) {
        text += hemisphere;
    }
    return text;
}

// Text with a light halo, readable over lines.
void drawLabel(QPainter *painter, const QPointF &baseline, const QString &text)
{
    QPainterPath path;
    path.addText(baseline, painter->font(), text);
    painter->setPen(
        QPen(QColor(255, 255, 255, 220), 3, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(path);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(0x5a, 0x66, 0x72));
    painter->drawPath(path);
}

} // namespace

void TileLayer::drawGraticule(QPainter *painter)
{
    const double step = graticuleStep(m_zoom);
    const QSizeF viewSize = size();
    const double north = MapMath::fromView({0, 0}, m_center, m_zoom, viewSize).latitude();
    const double south = MapMath::fromView({0, height()}, m_center, m_zoom, viewSize).latitude();
    const double degreesPerPixel = 360.0 / MapMath::worldSize(m_zoom);
    const double westEdge = MapMath::project(m_center, m_zoom).x() - width() / 2.0;
    const double west = westEdge * degreesPerPixel - 180.0; // unwrapped, may be below -180
    const double east = west + width() * degreesPerPixel;

    const QPen minor(QColor(0x9a, 0xa8, 0xb8, 110), 1);
    const QPen major(QColor(0x7d, 0x8c, 0x9c, 170), 1.4);
    QFont font = painter->font();
    font.setPixelSize(11);
    painter->setFont(font);
    painter->setRenderHint(QPainter::Antialiasing, true);
    const int decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step) - 1e-9));
    // Every fifth line is drawn stronger, counted from the equator and the prime meridian.
    const auto isMajor = [step](double value) {
        return std::fabs(std::remainder(value, step * 5)) < step / 1000;
    };

    QVector<QPair<double, QString>> meridians;
    for (double longitude = std::ceil(west / step) * step; longitude <= east; longitude += step) {
        const double x = std::round((longitude - west) / degreesPerPixel) + 0.5;
        const double wrapped = MapMath::wrapLongitude(longitude);
        painter->setPen(isMajor(wrapped) ? major : minor);
        painter->drawLine(QPointF(x, 0), QPointF(x, height()));
        meridians.append({x, formatDegrees(wrapped, decimals, QLatin1Char('E'), QLatin1Char('W'))});
    }
    QVector<QPair<double, QString>> parallels;
    for (double latitude = std::ceil(south / step) * step; latitude <= north; latitude += step) {
        const double y = std::round(MapMath::toView(QGeoCoordinate(latitude, m_center.longitude()),
                                                    m_center, m_zoom, viewSize)
                                        .y())
            + 0.5;
        painter->setPen(isMajor(latitude) ? major : minor);
        painter->drawLine(QPointF(0, y), QPointF(width(), y));
        parallels.append(
            {y, formatDegrees(latitude, decimals, QLatin1Char('N'), QLatin1Char('S'))});
    }
    // Labels after all lines, along the bottom and the left edge, clear of the map's corners
    // where the console puts its controls.
    for (const auto &[x, label] : std::as_const(meridians)) {
        if (x > 130 && x < width() - 200) {
            drawLabel(painter, QPointF(x + 4, height() - 8), label);
        }
    }
    for (const auto &[y, label] : std::as_const(parallels)) {
        if (y > 60 && y < height() - 50) {
            drawLabel(painter, QPointF(6, y - 4), label);
        }
    }
}

} // namespace Omw
