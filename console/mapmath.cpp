#include "mapmath.h"

#include <QtMath>

#include <algorithm>
#include <cmath>

namespace Omw::MapMath {

bool TileId::isValid() const
{
    if (z < minZoom || z > maxZoom) {
        return false;
    }
    const int count = 1 << z;
    return x >= 0 && x < count && y >= 0 && y < count;
}

TileId TileId::parent() const
{
    if (z == 0) {
        return *this;
    }
    return {z - 1, x >> 1, y >> 1};
}

double worldSize(double zoom)
{
    return tileSize * std::exp2(zoom);
}

double clampLatitude(double latitude)
{
    return std::clamp(latitude, -maxLatitude, maxLatitude);
}

double clampZoom(double zoom)
{
    return std::clamp(zoom, double(minZoom), double(maxZoom));
}

double wrapLongitude(double longitude)
{
    double wrapped = std::fmod(longitude + 180.0, 360.0);
    if (wrapped < 0) {
        wrapped += 360.0;
    }
    return wrapped - 180.0;
}

int wrapTileX(int x, int z)
{
    const int count = 1 << z;
    const int wrapped = x % count;
    return wrapped < 0 ? wrapped + count : wrapped;
}

QPointF project(const QGeoCoordinate &coordinate, double zoom)
{
    const double size = worldSize(zoom);
    const double latitude = qDegreesToRadians(clampLatitude(coordinate.latitude()));
    const double x = (coordinate.longitude() + 180.0) / 360.0 * size;
    const double y
        = (1.0 - std::log(std::tan(latitude) + 1.0 / std::cos(latitude)) / M_PI) / 2.0 * size;
    return {x, y};
}

QGeoCoordinate unproject(const QPointF &worldPoint, double zoom)
{
    const double size = worldSize(zoom);
    const double longitude = wrapLongitude(worldPoint.x() / size * 360.0 - 180.0);
    const double y = std::clamp(worldPoint.y(), 0.0, size);
    const double n = M_PI * (1.0 - 2.0 * y / size);
    const double latitude = qRadiansToDegrees(std::atan(std::sinh(n)));
    return QGeoCoordinate(clampLatitude(latitude), longitude);
}

TileId tileAt(const QGeoCoordinate &coordinate, int zoom)
{
    const QPointF point = project(coordinate, zoom);
    const int count = 1 << zoom;
    const int x = wrapTileX(int(std::floor(point.x() / tileSize)), zoom);
    const int y = std::clamp(int(std::floor(point.y() / tileSize)), 0, count - 1);
    return {zoom, x, y};
}

QGeoCoordinate tileTopLeft(const TileId &tile)
{
    const QPointF corner(double(tile.x) * tileSize, double(tile.y) * tileSize);
    const double size = worldSize(tile.z);
    // unproject() wraps longitude 180 onto -180, which is wrong for the right edge of the map.
    const double longitude = corner.x() / size * 360.0 - 180.0;
    return QGeoCoordinate(unproject(corner, tile.z).latitude(), longitude);
}

QVector<TileId> tilesCovering(const QGeoCoordinate &center, double zoom, const QSizeF &viewSize,
                              int z)
{
    QVector<TileId> tiles;
    if (!center.isValid() || viewSize.isEmpty()) {
        return tiles;
    }
    // Tile size on screen when level z is drawn at the view's fractional zoom.
    const double scale = std::exp2(zoom - z);
    const QPointF centre = project(center, z);
    const double halfWidth = viewSize.width() / 2.0 / scale;
    const double halfHeight = viewSize.height() / 2.0 / scale;
    const int count = 1 << z;
    const int firstX = int(std::floor((centre.x() - halfWidth) / tileSize));
    const int lastX = int(std::floor((centre.x() + halfWidth) / tileSize));
    const int firstY = std::max(0, int(std::floor((centre.y() - halfHeight) / tileSize)));
    const int lastY = std::min(count - 1, int(std::floor((centre.y() + halfHeight) / tileSize)));
    for (int y = firstY; y <= lastY; ++y) {
        for (int x = firstX; x <= lastX; ++x) {
            tiles.append({z, x, y});
        }
    }
    return tiles;
}

QPointF toView(const QGeoCoordinate &coordinate, const QGeoCoordinate &center, double zoom,
               const QSizeF &viewSize)
{
    const double size = worldSize(zoom);
    const QPointF point = project(coordinate, zoom);
    const QPointF centre = project(center, zoom);
    double dx = point.x() - centre.x();
    // Choose the copy of the world nearest to the centre.
    dx -= std::round(dx / size) * size;
    return {viewSize.width() / 2.0 + dx, viewSize.height() / 2.0 + point.y() - centre.y()};
}

QGeoCoordinate fromView(const QPointF &viewPoint, const QGeoCoordinate &center, double zoom,
                        const QSizeF &viewSize)
{
    const QPointF centre = project(center, zoom);
    const QPointF world(centre.x() + viewPoint.x() - viewSize.width() / 2.0,
                        centre.y() + viewPoint.y() - viewSize.height() / 2.0);
    return unproject(world, zoom);
}

QGeoCoordinate centerForZoomAround(const QPointF &anchor, const QGeoCoordinate &center, double zoom,
                                   double newZoom, const QSizeF &viewSize)
{
    newZoom = clampZoom(newZoom);
    const QGeoCoordinate anchored = fromView(anchor, center, zoom, viewSize);
    const QPointF anchoredWorld = project(anchored, newZoom);
    // Keep the longitude continuous, so that the anchor does not jump across the antimeridian.
    const QPointF offset(anchor.x() - viewSize.width() / 2.0, anchor.y() - viewSize.height() / 2.0);
    return unproject(anchoredWorld - offset, newZoom);
}

QGeoCoordinate centerAfterPan(const QPointF &delta, const QGeoCoordinate &center, double zoom)
{
    const QPointF centre = project(center, zoom);
    return unproject(centre - delta, zoom);
}

Fit fitCoordinates(const QVector<QGeoCoordinate> &coordinates, const QSizeF &viewSize,
                   double margin, double maximumZoom)
{
    Fit fit;
    double left = 0, right = 0, top = 0, bottom = 0;
    bool first = true;
    for (const QGeoCoordinate &coordinate : coordinates) {
        if (!coordinate.isValid()) {
            continue;
        }
        const QPointF point = project(coordinate, 0);
        if (first) {
            left = right = point.x();
            top = bottom = point.y();
            first = false;
        } else {
            left = std::min(left, point.x());
            right = std::max(right, point.x());
            top = std::min(top, point.y());
            bottom = std::max(bottom, point.y());
        }
    }
    if (first) {
        return fit;
    }
    const QRectF bounds(QPointF(left, top), QPointF(right, bottom));
    fit.center = unproject(bounds.center(), 0);
    const double width = std::max(1.0, viewSize.width() - 2 * margin);
    const double height = std::max(1.0, viewSize.height() - 2 * margin);
    double zoom = maximumZoom;
    if (bounds.width() > 0 || bounds.height() > 0) {
        const double zoomX = bounds.width() > 0 ? std::log2(width / bounds.width()) : maximumZoom;
        const double zoomY
            = bounds.height() > 0 ? std::log2(height / bounds.height()) : maximumZoom;
        zoom = std::min({zoomX, zoomY, maximumZoom});
    }
    fit.zoom = clampZoom(zoom);
    return fit;
}

double distance(const QGeoCoordinate &from, const QGeoCoordinate &to)
{
    const double lat1 = qDegreesToRadians(from.latitude());
    const double lat2 = qDegreesToRadians(to.latitude());
    const double dLat = lat2 - lat1;
    const double dLon = qDegreesToRadians(to.longitude() - from.longitude());
    const double a = std::sin(dLat / 2) * std::sin(dLat / 2)
        + std::cos(lat1) * std::cos(lat2) * std::sin(dLon / 2) * std::sin(dLon / 2);
    return 2 * earthRadius * std::asin(std::min(1.0, std::sqrt(a)));
}

double bearing(const QGeoCoordinate &from, const QGeoCoordinate &to)
{
    const double lat1 = qDegreesToRadians(from.latitude());
    const double lat2 = qDegreesToRadians(to.latitude());
    const double dLon = qDegreesToRadians(to.longitude() - from.longitude());
    const double y = std::sin(dLon) * std::cos(lat2);
    const double x
        = std::cos(lat1) * std::sin(lat2) - std::sin(lat1) * std::cos(lat2) * std::cos(dLon);
    double degrees = qRadiansToDegrees(std::atan2(y, x));
    degrees = std::fmod(degrees + 360.0, 360.0);
    return degrees >= 360.0 ? 0.0 : degrees;
}

double metresPerPixel(double latitude, double zoom)
{
    const double equator = 2 * M_PI * 6378137.0; // WGS 84 semi-major axis, as EPSG:3857 uses
    return equator * std::cos(qDegreesToRadians(clampLatitude(latitude))) / worldSize(zoom);
}

} // namespace Omw::MapMath
