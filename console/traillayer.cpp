#include "traillayer.h"

#include "mapmath.h"
#include "ridemodel.h"

#include <QPainter>
#include <QPainterPath>

namespace Omw {

TrailLayer::TrailLayer(QQuickItem *parent) : QQuickPaintedItem(parent)
{
    setAntialiasing(true);
}

void TrailLayer::setModel(RideModel *model)
{
    if (m_model == model) {
        return;
    }
    if (m_model) {
        disconnect(m_model, nullptr, this, nullptr);
    }
    m_model = model;
    if (m_model) {
        connect(m_model, &RideModel::trailsChanged, this, [this] { update(); });
        connect(m_model, &QAbstractItemModel::dataChanged, this, [this] { update(); });
        connect(m_model, &QAbstractItemModel::modelReset, this, [this] { update(); });
    }
    Q_EMIT modelChanged();
    update();
}

void TrailLayer::setCenter(const QGeoCoordinate &center)
{
    if (center.isValid() && center != m_center) {
        m_center = center;
        Q_EMIT centerChanged();
        update();
    }
}

void TrailLayer::setZoom(double zoom)
{
    if (!qFuzzyCompare(zoom, m_zoom)) {
        m_zoom = zoom;
        Q_EMIT zoomChanged();
        update();
    }
}

void TrailLayer::setStateColors(const QList<QColor> &colors)
{
    if (m_stateColors != colors) {
        m_stateColors = colors;
        Q_EMIT stateColorsChanged();
        update();
    }
}

QColor TrailLayer::lineColor(int state) const
{
    const QColor color = m_stateColors.value(state);
    return color.isValid() ? color : colorForState(state);
}

QColor TrailLayer::colorForState(int state)
{
    switch (state) {
    case RideModel::Live:
        return QColor(0x1a, 0x73, 0xe8);
    case RideModel::Stale:
        return QColor(0xe3, 0x74, 0x00);
    case RideModel::Offline:
        return QColor(0x8e, 0x24, 0xaa);
    case RideModel::Ended:
        return QColor(0x5f, 0x63, 0x68);
    default:
        return QColor(0x80, 0x86, 0x8b);
    }
}

void TrailLayer::paint(QPainter *painter)
{
    if (!m_model) {
        return;
    }
    painter->setRenderHint(QPainter::Antialiasing, true);
    int selectedRow = -1;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        if (m_model->rideAt(row).slug == m_model->selectedSlug()) {
            selectedRow = row;
            continue;
        }
        paintTrail(painter, row, false);
    }
    if (selectedRow >= 0) {
        paintTrail(painter, selectedRow, true);
    }
}

void TrailLayer::paintTrail(QPainter *painter, int row, bool selected)
{
    const Ride &ride = m_model->rideAt(row);
    if (ride.trail.size() < 2) {
        return;
    }
    const QSizeF viewSize = size();
    // Project every point relative to the newest one, so that a trail crossing the antimeridian
    // stays continuous next to its marker.
    const Position &newest = ride.trail.constLast();
    const QPointF anchor = MapMath::toView(QGeoCoordinate(newest.latitude, newest.longitude),
                                           m_center, m_zoom, viewSize);
    const QPointF anchorWorld
        = MapMath::project(QGeoCoordinate(newest.latitude, newest.longitude), m_zoom);
    const double worldSize = MapMath::worldSize(m_zoom);
    QPainterPath path;
    QPointF previous;
    for (int i = 0; i < ride.trail.size(); ++i) {
        const Position &point = ride.trail.at(i);
        QPointF world = MapMath::project(QGeoCoordinate(point.latitude, point.longitude), m_zoom);
        double dx = world.x() - anchorWorld.x();
        dx -= std::round(dx / worldSize) * worldSize;
        const QPointF screen(anchor.x() + dx, anchor.y() + world.y() - anchorWorld.y());
        if (i == 0) {
            path.moveTo(screen);
        } else if ((screen - previous).manhattanLength() >= 1.5 || i == ride.trail.size() - 1) {
            path.lineTo(screen);
        } else {
            continue;
        }
        previous = screen;
    }
    const QColor color = lineColor(m_model->stateAt(row));
    const double width = selected ? 5 : 3.5;
    // A light casing keeps the line readable on busy tiles.
    painter->setPen(
        QPen(QColor(255, 255, 255, 200), width + 3, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter->drawPath(path);
    QColor line = color;
    line.setAlpha(selected ? 240 : 190);
    painter->setPen(QPen(line, width, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter->drawPath(path);
}

} // namespace Omw
