#pragma once

#include "mapmath.h"
#include "tilesource.h"

#include <QCache>
#include <QColor>
#include <QGeoCoordinate>
#include <QHash>
#include <QImage>
#include <QPointer>
#include <QQuickPaintedItem>
#include <QSet>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

namespace Omw {

// Paints the map background: tiles from a TileSource at the integer level nearest to `zoom`,
// scaled for fractional zooms. While a tile loads, the nearest cached ancestor (up to five
// levels up) or its cached children are drawn in its place, so zooming and panning over
// loaded areas leave no holes. Without tiles (no source, or a source of kind None) the layer
// paints a plain background with a latitude/longitude graticule. Setting `graticule` draws
// the grid over tiles too.
class TileLayer : public QQuickPaintedItem
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Omw::TileSource *source READ source WRITE setSource NOTIFY sourceChanged)
    Q_PROPERTY(QGeoCoordinate center READ center WRITE setCenter NOTIFY centerChanged)
    Q_PROPERTY(double zoom READ zoom WRITE setZoom NOTIFY zoomChanged)
    Q_PROPERTY(bool graticule READ graticule WRITE setGraticule NOTIFY graticuleChanged)
    Q_PROPERTY(QColor backgroundColor READ backgroundColor WRITE setBackgroundColor NOTIFY
                   backgroundColorChanged)
    Q_PROPERTY(bool complete READ isComplete NOTIFY completeChanged)
    Q_PROPERTY(int tileLevel READ tileLevel NOTIFY tileLevelChanged)
    Q_PROPERTY(
        int retryInterval READ retryInterval WRITE setRetryInterval NOTIFY retryIntervalChanged)

public:
    explicit TileLayer(QQuickItem *parent = nullptr);

    TileSource *source() const { return m_source; }
    void setSource(TileSource *source);
    QGeoCoordinate center() const { return m_center; }
    void setCenter(const QGeoCoordinate &center);
    double zoom() const { return m_zoom; }
    void setZoom(double zoom);
    bool graticule() const { return m_graticule; }
    void setGraticule(bool graticule);
    QColor backgroundColor() const { return m_backgroundColor; }
    void setBackgroundColor(const QColor &color);
    // Whether every tile of the current view has been drawn from its own level or has failed.
    bool isComplete() const { return m_complete; }
    // The tile level drawn at the current zoom.
    int tileLevel() const;
    // Milliseconds after which a failed tile is requested again (30 s by default).
    int retryInterval() const { return m_retryInterval; }
    void setRetryInterval(int milliseconds);

    void paint(QPainter *painter) override;

    // Graticule spacing in degrees for a view at `zoom`, so that lines lie about 100 px apart.
    static double graticuleStep(double zoom);

Q_SIGNALS:
    void sourceChanged();
    void centerChanged();
    void zoomChanged();
    void graticuleChanged();
    void backgroundColorChanged();
    void completeChanged();
    void tileLevelChanged();
    void retryIntervalChanged();

protected:
    void geometryChange(const QRectF &newGeometry, const QRectF &oldGeometry) override;

private:
    bool drawFallback(QPainter *painter, const MapMath::TileId &tile, const QRectF &target);
    void drawGraticule(QPainter *painter);
    void handleTileReady(const MapMath::TileId &tile, const QImage &image);
    void handleTileFailed(const MapMath::TileId &tile);
    void retryFailedTiles();
    // Tiles of the current view and level that are neither cached nor failed.
    QVector<MapMath::TileId> missingTiles() const;
    void scheduleRequests();
    void setComplete(bool complete);
    bool hasTiles() const;

    QPointer<TileSource> m_source;
    QGeoCoordinate m_center {0, 0};
    double m_zoom = 2;
    int m_lastLevel = -1;
    bool m_graticule = false;
    bool m_complete = false;
    bool m_requestsScheduled = false;
    int m_retryInterval = 30000;
    QColor m_backgroundColor {0xee, 0xf1, 0xf4};
    QCache<MapMath::TileId, QImage> m_images; // cost in KiB
    QSet<MapMath::TileId> m_pending;
    // Failed tiles count as drawn until their retry time (epoch ms), then they are requested
    // again, so that a network blip or a restarted tile server does not leave holes for good.
    QHash<MapMath::TileId, qint64> m_failed;
    QTimer m_retryTimer;
};

} // namespace Omw
