#include "webmercator.h"

#include "mapmath.h"

namespace Omw {

int WebMercator::minimumZoom() const
{
    return MapMath::minZoom;
}

int WebMercator::maximumZoom() const
{
    return MapMath::maxZoom;
}

double WebMercator::maximumLatitude() const
{
    return MapMath::maxLatitude;
}

QPointF WebMercator::toView(const QGeoCoordinate &coordinate, const QGeoCoordinate &center,
                            double zoom, double width, double height) const
{
    if (!coordinate.isValid() || !center.isValid()) {
        return QPointF(qQNaN(), qQNaN());
    }
    return MapMath::toView(coordinate, center, zoom, QSizeF(width, height));
}

QGeoCoordinate WebMercator::fromView(double x, double y, const QGeoCoordinate &center, double zoom,
                                     double width, double height) const
{
    return MapMath::fromView(QPointF(x, y), center, zoom, QSizeF(width, height));
}

QGeoCoordinate WebMercator::centerAfterPan(double dx, double dy, const QGeoCoordinate &center,
                                           double zoom) const
{
    return MapMath::centerAfterPan(QPointF(dx, dy), center, zoom);
}

QGeoCoordinate WebMercator::centerForZoomAround(double x, double y, const QGeoCoordinate &center,
                                                double zoom, double newZoom, double width,
                                                double height) const
{
    return MapMath::centerForZoomAround(QPointF(x, y), center, zoom, newZoom,
                                        QSizeF(width, height));
}

double WebMercator::clampZoom(double zoom) const
{
    return MapMath::clampZoom(zoom);
}

QVariantMap WebMercator::fit(const QVariantList &coordinates, double width, double height,
                             double margin, double maximumZoom) const
{
    QVector<QGeoCoordinate> list;
    for (const QVariant &value : coordinates) {
        list.append(value.value<QGeoCoordinate>());
    }
    const MapMath::Fit fitted
        = MapMath::fitCoordinates(list, QSizeF(width, height), margin, maximumZoom);
    return {{QStringLiteral("center"), QVariant::fromValue(fitted.center)},
            {QStringLiteral("zoom"), fitted.zoom}};
}

double WebMercator::distance(const QGeoCoordinate &from, const QGeoCoordinate &to) const
{
    return MapMath::distance(from, to);
}

double WebMercator::bearing(const QGeoCoordinate &from, const QGeoCoordinate &to) const
{
    return MapMath::bearing(from, to);
}

double WebMercator::metresPerPixel(double latitude, double zoom) const
{
    return MapMath::metresPerPixel(latitude, zoom);
}

} // namespace Omw
