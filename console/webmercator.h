#pragma once

#include <QGeoCoordinate>
#include <QObject>
#include <QPointF>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace Omw {

// The map math of MapMath for QML. Each function takes the view's centre, zoom and size as
// arguments, so that a binding that calls it re-evaluates when the view changes.
class WebMercator : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(int minimumZoom READ minimumZoom CONSTANT)
    Q_PROPERTY(int maximumZoom READ maximumZoom CONSTANT)
    Q_PROPERTY(double maximumLatitude READ maximumLatitude CONSTANT)

public:
    using QObject::QObject;

    int minimumZoom() const;
    int maximumZoom() const;
    double maximumLatitude() const;

    Q_INVOKABLE QPointF toView(const QGeoCoordinate &coordinate, const QGeoCoordinate &center,
                               double zoom, double width, double height) const;
    Q_INVOKABLE QGeoCoordinate fromView(double x, double y, const QGeoCoordinate &center,
                                        double zoom, double width, double height) const;
    Q_INVOKABLE QGeoCoordinate centerAfterPan(double dx, double dy, const QGeoCoordinate &center,
                                              double zoom) const;
    Q_INVOKABLE QGeoCoordinate centerForZoomAround(double x, double y, const QGeoCoordinate &center,
                                                   double zoom, double newZoom, double width,
                                                   double height) const;
    Q_INVOKABLE double clampZoom(double zoom) const;
    // {"center": coordinate, "zoom": number} showing every coordinate in `coordinates`.
    Q_INVOKABLE QVariantMap fit(const QVariantList &coordinates, double width, double height,
                                double margin, double maximumZoom) const;
    Q_INVOKABLE double distance(const QGeoCoordinate &from, const QGeoCoordinate &to) const;
    Q_INVOKABLE double bearing(const QGeoCoordinate &from, const QGeoCoordinate &to) const;
    Q_INVOKABLE double metresPerPixel(double latitude, double zoom) const;
};

} // namespace Omw
