#pragma once

#include "ridemodel.h"

#include <QGeoCoordinate>
#include <QPointer>
#include <QQuickPaintedItem>
#include <QtQml/qqmlregistration.h>

namespace Omw {

// Paints the trail of every ride in a RideModel as a polyline, coloured by the ride's state,
// with the selected ride on top and wider. The view is given by `center` and `zoom` as for
// TileLayer.
class TrailLayer : public QQuickPaintedItem
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Omw::RideModel *model READ model WRITE setModel NOTIFY modelChanged)
    Q_PROPERTY(QGeoCoordinate center READ center WRITE setCenter NOTIFY centerChanged)
    Q_PROPERTY(double zoom READ zoom WRITE setZoom NOTIFY zoomChanged)
    Q_PROPERTY(
        QList<QColor> stateColors READ stateColors WRITE setStateColors NOTIFY stateColorsChanged)

public:
    explicit TrailLayer(QQuickItem *parent = nullptr);

    RideModel *model() const { return m_model; }
    void setModel(RideModel *model);
    QGeoCoordinate center() const { return m_center; }
    void setCenter(const QGeoCoordinate &center);
    double zoom() const { return m_zoom; }
    void setZoom(double zoom);
    // Line colours indexed by RideModel::State; states without one use colorForState().
    QList<QColor> stateColors() const { return m_stateColors; }
    void setStateColors(const QList<QColor> &colors);

    void paint(QPainter *painter) override;

    // The default line colour of a ride in `state` (a RideModel::State).
    static QColor colorForState(int state);
    QColor lineColor(int state) const;

Q_SIGNALS:
    void modelChanged();
    void centerChanged();
    void zoomChanged();
    void stateColorsChanged();

private:
    void paintTrail(QPainter *painter, int row, bool selected);

    QPointer<RideModel> m_model;
    QGeoCoordinate m_center {0, 0};
    double m_zoom = 2;
    QList<QColor> m_stateColors;
};

} // namespace Omw
