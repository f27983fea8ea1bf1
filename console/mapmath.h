#pragma once

#include <QGeoCoordinate>
#include <QHashFunctions>
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QVector>

// Web Mercator (EPSG:3857) as slippy-map tiles use it. "World pixels" at zoom z are the
// coordinates of a square of tileSize * 2^z pixels: x grows east from the antimeridian at
// 180° W, y grows south from the top edge at maxLatitude. Zoom may be fractional.
namespace Omw::MapMath {

// The latitude at which the square map ends: atan(sinh(π)) in degrees.
constexpr double maxLatitude = 85.0511287798066;
constexpr int tileSize = 256;
constexpr int minZoom = 0;
constexpr int maxZoom = 19;
// Mean Earth radius in metres (IUGG), used for great-circle distances.
constexpr double earthRadius = 6371008.8;

// One tile of the slippy-map grid. `x` and `y` are within [0, 2^z).
struct TileId
{
    int z = 0;
    int x = 0;
    int y = 0;

    bool operator==(const TileId &other) const
    {
        return z == other.z && x == other.x && y == other.y;
    }
    bool operator!=(const TileId &other) const { return !(*this == other); }
    bool isValid() const;
    // The tile one level up that contains this one; the tile itself at level 0.
    TileId parent() const;
};

inline size_t qHash(const TileId &tile, size_t seed = 0)
{
    return qHashMulti(seed, tile.z, tile.x, tile.y);
}

// Side of the world square in pixels at `zoom`.
double worldSize(double zoom);
double clampLatitude(double latitude);
double clampZoom(double zoom);
// Maps any longitude onto [-180, 180).
double wrapLongitude(double longitude);
// Maps a tile column onto [0, 2^z), so that a view across the antimeridian repeats the world.
int wrapTileX(int x, int z);

// Projects a coordinate into world pixels. Latitudes beyond ±maxLatitude are clamped.
QPointF project(const QGeoCoordinate &coordinate, double zoom);
// Inverse of project(). x wraps around the world, y is clamped to the map's edges.
QGeoCoordinate unproject(const QPointF &worldPoint, double zoom);

// The tile that contains the coordinate at an integer zoom level.
TileId tileAt(const QGeoCoordinate &coordinate, int zoom);
// The geographic bounds of a tile: top-left and bottom-right corners.
QGeoCoordinate tileTopLeft(const TileId &tile);

// Tiles that cover a viewport of `viewSize` pixels centred on `center`, at integer level `z`
// (the view itself may be at a fractional zoom). Columns are returned unwrapped, so a view that
// crosses the antimeridian gets x < 0 or x >= 2^z; rows outside the map are left out.
QVector<TileId> tilesCovering(const QGeoCoordinate &center, double zoom, const QSizeF &viewSize,
                              int z);

// Screen position of a coordinate in a view of `viewSize` centred on `center`. The copy of the
// world closest to the centre is chosen, so that a ride near the antimeridian stays in view.
QPointF toView(const QGeoCoordinate &coordinate, const QGeoCoordinate &center, double zoom,
               const QSizeF &viewSize);
QGeoCoordinate fromView(const QPointF &viewPoint, const QGeoCoordinate &center, double zoom,
                        const QSizeF &viewSize);

// The centre that keeps the coordinate under `anchor` fixed while zooming to `newZoom`.
QGeoCoordinate centerForZoomAround(const QPointF &anchor, const QGeoCoordinate &center, double zoom,
                                   double newZoom, const QSizeF &viewSize);
// The centre after dragging the map content by `delta` pixels.
QGeoCoordinate centerAfterPan(const QPointF &delta, const QGeoCoordinate &center, double zoom);

// Centre and zoom that show every coordinate with `margin` pixels to spare, at most `maxZoom`.
struct Fit
{
    QGeoCoordinate center;
    double zoom = 0;
};
Fit fitCoordinates(const QVector<QGeoCoordinate> &coordinates, const QSizeF &viewSize,
                   double margin, double maximumZoom);

// Great-circle distance in metres (haversine on a sphere of earthRadius).
double distance(const QGeoCoordinate &from, const QGeoCoordinate &to);
// Initial great-circle bearing in degrees clockwise from true north, [0, 360).
double bearing(const QGeoCoordinate &from, const QGeoCoordinate &to);
// Ground resolution in metres per pixel at a latitude and zoom.
double metresPerPixel(double latitude, double zoom);

} // namespace Omw::MapMath
